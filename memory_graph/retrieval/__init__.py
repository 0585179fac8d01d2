"""Retrieval: candidates, fusion, graph ranking and the rendered context
(:class:`~memlane.memory_graph.retrieval.retriever.Retriever`)."""
