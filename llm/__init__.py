"""The LLM boundary: the one gateway over LiteLLM (:mod:`~memlane.llm.gateway`), the offline
model (:mod:`~memlane.llm.offline`) and the scripted fake for tests
(:mod:`~memlane.llm.testing`)."""
