"""The embedded SQLite backend of :class:`~memory_graph.stores.base.GraphStore`."""

from memory_graph.stores.sqlite.store import SQLiteStore

__all__ = ["SQLiteStore"]
