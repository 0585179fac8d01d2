"""FalkorDB through its native client (``falkordb.asyncio``), never its Bolt port.

The native protocol sends parameters in a ``CYPHER name=value`` header that the client
quotes (strings exact, including quotes, backslashes, newlines and non-ASCII). FalkorDB has
no multi-statement transactions, so the store makes every logical write one statement.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.exceptions as redis_errors
from falkordb.asyncio import FalkorDB

from memlane.memory_graph.errors import StoreError
from memlane.memory_graph.stores.cypher.dialect import FALKORDB
from memlane.memory_graph.stores.cypher.session import CypherSession, Rows

__all__ = ["FalkorDBSession"]

log = logging.getLogger(__name__)


class FalkorDBSession(CypherSession):
    """A connection pool to one FalkorDB graph."""

    dialect = FALKORDB

    def __init__(
        self,
        host: str,
        port: int,
        graph: str,
        *,
        password: str | None = None,
        username: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.host, self.port, self.graph_name = host, port, graph
        self.display_url = f"falkordb://{host}:{port}/{graph}"
        self._password, self._username, self._timeout = password, username, timeout_s
        self._db: FalkorDB | None = None
        self._graph: Any = None

    async def connect(self) -> None:
        if self._db is not None:
            return
        try:
            # The client probes for a cluster with a *blocking* INFO call while it is built:
            # build it in a worker thread so the event loop never waits on the network.
            db = await asyncio.to_thread(
                FalkorDB,
                host=self.host,
                port=self.port,
                password=self._password,
                username=self._username,
                socket_timeout=self._timeout,
                socket_connect_timeout=min(self._timeout, 5.0),
            )
        except redis_errors.RedisError as exc:
            raise StoreError(
                f"cannot reach FalkorDB at {self.host}:{self.port}: {exc}", where=self.display_url
            ) from exc
        try:
            await db.connection.ping()
        except redis_errors.RedisError as exc:
            await db.connection.aclose()
            raise StoreError(
                f"cannot reach FalkorDB at {self.host}:{self.port}: {exc}", where=self.display_url
            ) from exc
        self._db = db
        self._graph = db.select_graph(self.graph_name)

    async def close(self) -> None:
        db, self._db, self._graph = self._db, None, None
        if db is not None:
            await db.connection.aclose()

    async def _run(self, query: str, params: dict[str, Any] | None, read_only: bool) -> Rows:
        if self._graph is None:
            raise StoreError("store is not open", where=self.display_url)
        try:
            if read_only:
                result = await self._graph.ro_query(query, params or None)
            else:
                result = await self._graph.query(query, params or None)
        except redis_errors.ResponseError as exc:
            if read_only and "empty key" in str(exc).lower():
                return []  # the graph has no data yet
            log.debug("FalkorDB rejected: %s\n%s", exc, query)
            raise StoreError(f"FalkorDB error: {exc}", where=self.display_url) from exc
        except redis_errors.RedisError as exc:
            raise StoreError(f"FalkorDB connection failed: {exc}", where=self.display_url) from exc
        names = [str(col[1]) for col in (result.header or [])]
        return [dict(zip(names, row, strict=False)) for row in result.result_set or []]

    async def read(self, query: str, params: dict[str, Any] | None = None) -> Rows:
        return await self._run(query, params, read_only=True)

    async def write(self, query: str, params: dict[str, Any] | None = None) -> Rows:
        return await self._run(query, params, read_only=False)

    async def server_version(self) -> str:
        if self._db is None:
            raise StoreError("store is not open", where=self.display_url)
        try:
            modules = await self._db.connection.execute_command("MODULE", "LIST")
        except redis_errors.RedisError as exc:
            raise StoreError(f"FalkorDB error: {exc}", where=self.display_url) from exc
        for module in modules or []:
            info = dict(zip(module[::2], module[1::2], strict=False))
            if str(info.get("name", "")).lower() == "graph":
                version = int(info.get("ver", 0))
                return f"FalkorDB {version // 10000}.{version // 100 % 100}.{version % 100}"
        return "FalkorDB (version unknown)"
