"""Neo4j 5 through the official async driver, one explicit transaction per statement.

Each write runs in an explicit transaction that is committed only after every row was
consumed and rolled back on any error, so a failed write set leaves nothing behind.
Transient errors (deadlocks, leader switches) are retried a few times.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import neo4j
import neo4j.exceptions as neo4j_errors

from memlane.memory_graph.errors import StoreError
from memlane.memory_graph.stores.cypher.dialect import NEO4J
from memlane.memory_graph.stores.cypher.session import CypherSession, Rows

__all__ = ["Neo4jSession"]

log = logging.getLogger(__name__)

_RETRIES = 3


class Neo4jSession(CypherSession):
    """A driver (connection pool) to one Neo4j database."""

    dialect = NEO4J

    def __init__(
        self,
        uri: str,
        *,
        user: str | None,
        password: str | None,
        database: str | None = None,
        display_url: str | None = None,
    ) -> None:
        self._uri, self._database = uri, database
        self._auth = (user or "neo4j", password or "") if (user or password) else None
        self.display_url = display_url or uri
        self._driver: neo4j.AsyncDriver | None = None

    async def connect(self) -> None:
        if self._driver is not None:
            return
        # Notifications ("property key does not exist" on a graph's first read) are hints for
        # someone writing queries by hand; the driver would log each one as a warning.
        driver = neo4j.AsyncGraphDatabase.driver(
            self._uri,
            auth=self._auth,
            notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF,
        )
        try:
            await driver.verify_connectivity()
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError, OSError) as exc:
            await driver.close()
            raise StoreError(f"cannot reach Neo4j: {exc}", where=self.display_url) from exc
        self._driver = driver

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await driver.close()

    async def _run(self, query: str, params: dict[str, Any] | None, write: bool) -> Rows:
        if self._driver is None:
            raise StoreError("store is not open", where=self.display_url)
        mode = neo4j.WRITE_ACCESS if write else neo4j.READ_ACCESS
        for attempt in range(_RETRIES + 1):
            try:
                async with self._driver.session(
                    database=self._database, default_access_mode=mode
                ) as session:
                    tx = await session.begin_transaction()
                    try:
                        result = await tx.run(query, params or {})
                        rows = await result.data()
                        await tx.commit()
                        return rows
                    except BaseException:
                        if not tx.closed():
                            await tx.rollback()
                        raise
            except (neo4j_errors.TransientError, neo4j_errors.SessionExpired) as exc:
                if attempt == _RETRIES:
                    raise StoreError(f"Neo4j error: {exc}", where=self.display_url) from exc
                log.info("retrying after a transient Neo4j error: %s", exc)
                await asyncio.sleep(0.1 * 2**attempt)
            except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
                raise StoreError(f"Neo4j error: {exc}", where=self.display_url) from exc
        raise AssertionError("unreachable")

    async def read(self, query: str, params: dict[str, Any] | None = None) -> Rows:
        return await self._run(query, params, write=False)

    async def write(self, query: str, params: dict[str, Any] | None = None) -> Rows:
        return await self._run(query, params, write=True)

    async def server_version(self) -> str:
        if self._driver is None:
            raise StoreError("store is not open", where=self.display_url)
        try:
            info = await self._driver.get_server_info()
        except (neo4j_errors.Neo4jError, neo4j_errors.DriverError) as exc:
            raise StoreError(f"Neo4j error: {exc}", where=self.display_url) from exc
        return f"{info.agent} (protocol {'.'.join(map(str, info.protocol_version))})"
