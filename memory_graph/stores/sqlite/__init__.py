"""The embedded SQLite backend of :class:`~memlane.memory_graph.stores.base.GraphStore`."""

from memlane.memory_graph.stores.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
