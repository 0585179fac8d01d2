"""Embedding: the port (:class:`~memlane.memory_graph.embedding.port.Embedder`) and the models
(:mod:`~memlane.memory_graph.embedding.models`: MiniLM, the hash embedder for tests)."""
