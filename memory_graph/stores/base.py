"""The ``GraphStore`` port: the few async primitives every backend implements.

Backends implement primitives only; ingestion, reconciliation and retrieval are written once
above this port. ``tests/contract/`` runs unchanged against every backend.

Rules every backend keeps:

* every read and write is scoped by ``user_id``; records are keyed by ``(user_id, id)``;
* :meth:`apply` is atomic: a write set lands whole or not at all;
* episodes are insert-if-absent, entities and facts are upserts;
* vectors are never returned by search calls (only ids and scores);
* ``FactQuery.matches`` is the reference semantics of :meth:`find_facts`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from memlane.memory_graph.model import Entity, Episode, Fact, FactQuery, WriteSet

__all__ = ["GraphStore", "Hit", "SearchTarget", "StoreInfo"]

SearchTarget = Literal["fact", "episode", "entity"]


@dataclass(frozen=True)
class Hit:
    """One search result: a record id and a score where higher is better."""

    id: str
    score: float


@dataclass(frozen=True)
class StoreInfo:
    """What ``memlane doctor`` reports about a store."""

    url: str
    backend: str
    ok: bool
    details: dict[str, Any]
    problems: tuple[str, ...] = ()


class GraphStore(ABC):
    """A user-scoped temporal graph store."""

    url: str = ""

    # -- lifecycle ---------------------------------------------------------------------------
    @abstractmethod
    async def open(self) -> None:
        """Connect and make sure the schema (tables, indexes) exists. Idempotent."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections. Idempotent."""

    async def __aenter__(self) -> GraphStore:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- writes ------------------------------------------------------------------------------
    @abstractmethod
    async def apply(self, writes: WriteSet) -> None:
        """Apply a write set atomically (all or nothing)."""

    @abstractmethod
    async def delete_facts(self, user_id: str, fact_ids: Sequence[str]) -> int:
        """Hard-delete facts (``forget`` of single facts). Returns how many existed."""

    @abstractmethod
    async def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete everything of one user; returns counts deleted per record type."""

    # -- reads by id / filter ----------------------------------------------------------------
    @abstractmethod
    async def get_episodes(self, user_id: str, ids: Sequence[str]) -> list[Episode]:
        """Episodes by id (missing ids are skipped), in the order asked."""

    @abstractmethod
    async def get_entities(self, user_id: str, ids: Sequence[str]) -> list[Entity]:
        """Entities by id (missing ids are skipped), in the order asked."""

    @abstractmethod
    async def get_facts(self, user_id: str, ids: Sequence[str]) -> list[Fact]:
        """Facts by id (missing ids are skipped), in the order asked."""

    @abstractmethod
    async def find_facts(self, user_id: str, query: FactQuery) -> list[Fact]:
        """Facts matching ``query`` ordered by ``valid_at`` (then ``recorded_at``, ``id``)."""

    @abstractmethod
    async def find_entities(self, user_id: str, names: Sequence[str]) -> list[Entity]:
        """Entities whose normalised name or alias equals one of ``names`` (normalised)."""

    @abstractmethod
    async def list_entities(self, user_id: str, limit: int = 10_000) -> list[Entity]:
        """All entities of a user (for entity linking), ordered by id."""

    @abstractmethod
    async def episodes_in_session(
        self, user_id: str, session_id: str | None, limit: int = 20
    ) -> list[Episode]:
        """The most recent episodes of a session, oldest first."""

    # -- search ------------------------------------------------------------------------------
    @abstractmethod
    async def search_text(self, user_id: str, target: SearchTarget, text: str, k: int) -> list[Hit]:
        """Full-text search (OR of the query's words, ranked); user text is escaped."""

    @abstractmethod
    async def search_vector(
        self, user_id: str, target: SearchTarget, vector: np.ndarray, k: int
    ) -> list[Hit]:
        """Cosine-similarity search over stored vectors; score is cosine similarity."""

    @abstractmethod
    async def neighbourhood(
        self, user_id: str, entity_ids: Sequence[str], hops: int = 1, limit: int = 200
    ) -> list[Fact]:
        """Facts (any validity) on paths of up to ``hops`` edges from the given entities."""

    # -- whole-store -------------------------------------------------------------------------
    @abstractmethod
    async def users(self) -> list[str]:
        """Every user id with at least one record, sorted."""

    @abstractmethod
    async def counts(self, user_id: str | None = None) -> dict[str, int]:
        """Record counts: keys ``episodes``, ``entities``, ``facts``."""

    @abstractmethod
    def export(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a user as JSON-ready dicts in a stable order
        (``memlane.memory_graph.io``)."""

    @abstractmethod
    async def info(self) -> StoreInfo:
        """Connectivity, schema version and index status for ``memlane doctor``."""
