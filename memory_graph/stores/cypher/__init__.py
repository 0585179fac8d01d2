"""The Cypher store: one implementation of the ``GraphStore`` port for Neo4j 5 and FalkorDB."""

from __future__ import annotations

from memlane.memory_graph.stores.cypher.store import CypherStore
from memlane.memory_graph.stores.cypher.urls import open_cypher_store

__all__ = ["CypherStore", "open_cypher_store"]
