"""pytest plugin: session Neo4j servers and the ``neo4j`` store factory for tests/conftest.py.

By default the suite starts its own Neo4j Community (:mod:`tests.neo4j.server`); where Java
or Maven is missing the Neo4j cases are skipped with that reason, unless
``MEMLANE_TEST_NEO4J_REQUIRED`` is set (CI), where they fail. ``MEMLANE_TEST_NEO4J_URI``
(with ``MEMLANE_TEST_NEO4J_USER`` / ``MEMLANE_TEST_NEO4J_PASSWORD``) points the suite at
another Neo4j instead: a throwaway database, emptied at the start of every test.

Community Edition has one user database per server, so a test's second store (an export's
round-trip target) is a second server, started only when a test first asks for one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import neo4j
import pytest

from memlane.memory_graph.stores import GraphStore, open_store
from tests.neo4j.server import PASSWORD, Neo4jServer, neo4j_missing, neo4j_required

__all__ = ["neo4j_server", "neo4j_server2", "neo4j_store", "neo4j_url", "skip_without_neo4j"]


def skip_without_neo4j() -> None:
    """Skip the test where no Neo4j can start here (fail instead where CI requires one)."""
    reason = neo4j_missing()
    if reason:
        if neo4j_required():
            pytest.fail(reason)
        pytest.skip(reason)


def _server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Neo4jServer]:
    skip_without_neo4j()
    server = Neo4jServer(tmp_path_factory.mktemp(name)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def neo4j_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    """One private Neo4j server for the whole test session."""
    yield from _server(tmp_path_factory, "neo4j")


@pytest.fixture(scope="session")
def neo4j_server2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jServer]:
    """A second server, for the few tests that need two empty Neo4j stores at once."""
    yield from _server(tmp_path_factory, "neo4j2")


def _outside(name: str) -> tuple[str, str, tuple[str, str], str | None]:
    """Store URL, driver URI, auth and database of the Neo4j that the environment names."""
    uri = os.environ["MEMLANE_TEST_NEO4J_URI"].split("?")[0]
    auth = (
        os.environ.get("MEMLANE_TEST_NEO4J_USER", "neo4j"),
        os.environ.get("MEMLANE_TEST_NEO4J_PASSWORD", ""),
    )
    scheme, _, rest = uri.partition("://")
    url = f"{scheme}://{quote(auth[0], safe='')}:{quote(auth[1], safe='')}@{rest}"
    database = os.environ.get("MEMLANE_TEST_NEO4J_DATABASE") or None
    if name != "main":
        database = os.environ.get("MEMLANE_TEST_NEO4J_DATABASE2")
        if not database:
            pytest.skip("a second Neo4j store needs MEMLANE_TEST_NEO4J_DATABASE2")
    return (f"{url}?database={database}" if database else url), uri, auth, database


def empty_database(uri: str, auth: tuple[str, str], database: str | None) -> None:
    """Delete every node and every vector index (a test may write vectors of another size).

    The other indexes stay: every memlane graph has the same ones, and building them again
    for each test would cost seconds.
    """
    with neo4j.GraphDatabase.driver(uri, auth=auth) as driver:
        driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
        rows, _, _ = driver.execute_query(
            "SHOW INDEXES YIELD name, type WHERE type = 'VECTOR' RETURN name", database_=database
        )
        for row in rows:
            # Names come from the server's own listing of memlane's indexes.
            driver.execute_query(f"DROP INDEX `{row['name']}` IF EXISTS", database_=database)


def neo4j_url(request: pytest.FixtureRequest, name: str) -> str:
    """The URL of an empty Neo4j database for store ``name`` of the current test."""
    if os.environ.get("MEMLANE_TEST_NEO4J_URI"):
        url, uri, auth, database = _outside(name)
    else:
        fixture = "neo4j_server" if name == "main" else "neo4j_server2"
        server: Neo4jServer = request.getfixturevalue(fixture)
        url, uri, auth, database = server.url(), server.uri, ("neo4j", PASSWORD), None
    empty_database(uri, auth, database)
    return url


async def neo4j_store(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> GraphStore:
    """A store on an empty Neo4j database (see the module docstring)."""
    return open_store(neo4j_url(request, name))
