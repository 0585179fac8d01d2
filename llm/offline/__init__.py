"""The offline model: a LiteLLM provider (:mod:`~memlane.llm.offline.provider`) that runs the
rule-based extraction of :mod:`~memlane.llm.offline.rules`; no key, no network."""
