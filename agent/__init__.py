"""memlane's agent loop: ``MemoryAgent``, the LangGraph graph, its state and write queue, settings,
and :mod:`~memlane.agent.bootstrap` (building memlane's parts from settings)."""
