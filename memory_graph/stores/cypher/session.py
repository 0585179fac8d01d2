"""The small async "session" a :class:`CypherStore` talks through, one per server kind.

A backend runs one Cypher statement at a time and returns rows as dicts keyed by the
``RETURN`` names. It maps its driver's errors to :class:`~memlane.memory_graph.errors.StoreError`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from memlane.memory_graph.stores.cypher.dialect import Dialect

__all__ = ["CypherSession", "Rows"]

Rows = list[dict[str, Any]]


class CypherSession(ABC):
    """One connection (pool) to one graph / database."""

    dialect: Dialect
    #: Where the data lives, for messages (``falkordb://127.0.0.1:6379/memlane``), no password.
    display_url: str

    @abstractmethod
    async def connect(self) -> None:
        """Open the connection and check the server answers.

        Raises:
            StoreError: the server cannot be reached or refuses the credentials.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release connections (idempotent)."""

    @abstractmethod
    async def read(self, query: str, params: dict[str, Any] | None = None) -> Rows:
        """Run a read-only statement."""

    @abstractmethod
    async def write(self, query: str, params: dict[str, Any] | None = None) -> Rows:
        """Run one statement atomically (committed when this returns, rolled back on error)."""

    @abstractmethod
    async def server_version(self) -> str:
        """The server's product and version, for ``memlane doctor``."""
