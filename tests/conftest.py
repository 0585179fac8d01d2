"""Shared fixtures: the ``store`` fixture over every available backend, and sample records.

The contract suite (``tests/contract``) asks only for ``store`` / ``store_factory`` and
``sample``; adding a backend here runs the whole suite against it with no test changes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.model import Entity, Episode, Fact, WriteSet
from memlane.memory_graph.stores import GraphStore, open_store
from tests.integration.falkordb_server import (  # noqa: F401 - falkordb_server is a fixture
    FalkorDBServer,
    falkordb_server,
    falkordb_store,
)
from tests.integration.llama_server import llama_server  # noqa: F401 - a fixture
from tests.neo4j.fixtures import (  # noqa: F401 - the servers are fixtures
    neo4j_server,
    neo4j_server2,
    neo4j_store,
    neo4j_url,
)

# -- backends ---------------------------------------------------------------------------------
# A factory returns a new, *unopened* store with no data in it. ``name`` tells stores made in
# the same test apart (e.g. the target of an export/import round trip).
StoreFactory = Callable[[pytest.FixtureRequest, Path, str], Awaitable[GraphStore]]


async def _sqlite_store(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> GraphStore:
    return open_store(f"sqlite:///{tmp_path / f'{name}.db'}")


BACKENDS: dict[str, StoreFactory] = {"sqlite": _sqlite_store}
"""Backend name -> factory. Every backend listed in ``_backend_params`` runs the contract."""

# Graph servers: a private FalkorDB and a private Neo4j per session (``falkordb_server``,
# ``neo4j_server``; Neo4j is skipped with the reason where Java or Maven is missing), or the
# Neo4j that MEMLANE_TEST_NEO4J_URI names.
BACKENDS["falkordb"] = falkordb_store
BACKENDS["neo4j"] = neo4j_store


def _backend_params() -> list[Any]:
    return [pytest.param(name, id=name) for name in BACKENDS]


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    """The name of the backend under test."""
    return str(request.param)


@pytest.fixture
async def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> AsyncIterator[Callable[[str], Awaitable[GraphStore]]]:
    """Make further opened, empty stores of the backend under test (closed at teardown)."""
    made: list[GraphStore] = []

    async def make(name: str) -> GraphStore:
        store = await BACKENDS[backend](request, tmp_path, name)
        await store.open()
        made.append(store)
        return store

    yield make
    for store in reversed(made):
        await store.close()


@pytest.fixture(params=["falkordb", "neo4j"])
def graph_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty graph on each graph server in turn (for tests of whole processes
    over a graph: the CLI, replicas, the agent)."""
    if request.param == "neo4j":
        return neo4j_url(request, "main")
    server: FalkorDBServer = request.getfixturevalue("falkordb_server")
    return server.url(re.sub(r"\W", "_", request.node.name)[-60:])


@pytest.fixture
async def store(store_factory: Callable[[str], Awaitable[GraphStore]]) -> GraphStore:
    """An opened, empty store of each backend in turn."""
    return await store_factory("main")


# -- sample records ---------------------------------------------------------------------------
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def days(n: float) -> datetime:
    """``T0`` plus ``n`` days."""
    return T0 + timedelta(days=n)


class Sample:
    """Builders of valid records with sensible defaults (times are ``T0`` + days)."""

    users = ("alice", "bob")
    embedder = HashEmbedder(64)

    def episode(
        self,
        user: str,
        id: str,
        content: str,
        *,
        day: float = 0,
        session: str | None = "s1",
        role: str = "user",
    ) -> Episode:
        return Episode(
            id=id,
            user_id=user,
            session_id=session,
            role=role,  # type: ignore[arg-type]
            content=content,
            occurred_at=days(day),
            recorded_at=days(day),
        )

    def entity(
        self, user: str, id: str, name: str, *, kind: str = "other", aliases: tuple[str, ...] = ()
    ) -> Entity:
        return Entity(
            id=id,
            user_id=user,
            name=name,
            kind=kind,  # type: ignore[arg-type]
            aliases=aliases,
            created_at=T0,
        )

    def fact(
        self,
        user: str,
        id: str,
        statement: str,
        *,
        subject: str = "self",
        predicate: str = "likes",
        obj: str | None = None,
        value: str | None = None,
        kind: str = "fact",
        polarity: str = "positive",
        valid: float | None = None,
        invalid: float | None = None,
        recorded: float = 0,
        expired: float | None = None,
        episodes: tuple[str, ...] = (),
    ) -> Fact:
        return Fact(
            id=id,
            user_id=user,
            subject_id=subject,
            predicate=predicate,
            object_id=obj,
            value=value,
            statement=statement,
            kind=kind,  # type: ignore[arg-type]
            polarity=polarity,  # type: ignore[arg-type]
            valid_at=None if valid is None else days(valid),
            invalid_at=None if invalid is None else days(invalid),
            recorded_at=days(recorded),
            expired_at=None if expired is None else days(expired),
            episode_ids=episodes,
        )

    def vec(self, text: str) -> np.ndarray:
        """A deterministic unit vector for ``text`` (similar words, similar vectors)."""
        return self.embedder.embed([text])[0]

    def turn(self, user: str, n: int, *, facts: int = 3) -> WriteSet:
        """One ingested turn: an episode, an entity and ``facts`` facts, all with vectors."""
        ep = self.episode(user, f"ep{n}", f"turn {n}: I visited place {n}", day=n)
        place = self.entity(user, f"place{n}", f"Place {n}", kind="place")
        fs = [
            self.fact(
                user,
                f"f{n}_{i}",
                f"The user visited place {n} (note {i})",
                predicate="visited",
                obj=place.id,
                valid=n,
                recorded=n,
                episodes=(ep.id,),
            )
            for i in range(facts)
        ]
        return WriteSet(
            user_id=user,
            episodes=[ep],
            entities=[place],
            facts=fs,
            episode_vectors={ep.id: self.vec(ep.content)},
            entity_vectors={place.id: self.vec(place.name)},
            fact_vectors={f.id: self.vec(f.statement) for f in fs},
        )


@pytest.fixture
def sample() -> Iterator[Sample]:
    """Record builders for tests (see :class:`Sample`)."""
    yield Sample()
