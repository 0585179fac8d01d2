"""The ``GraphStore`` port: the storage primitives every backend implements.

Backends implement primitives only; ingestion, reconciliation and retrieval are written once
above this port, and so are full-text ranking (``_search``), the neighbourhood walk
(``_walk``) and export paging (here). Records travel through one codec (``_codec``).
``tests/contract/`` runs unchanged against every backend.

Required primitives (abstract, :data:`REQUIRED`): lifecycle (``open``, ``close``); writes
(``apply``, ``write_version``, ``delete_facts``, ``forget_user``); reads (``get``, ``find_facts``,
``find_entities``, ``episodes_in_session``, ``facts_touching``, ``scan``); search
(``text_matches``, ``search_vector``); whole-store (``users``, ``counts``, ``info``).

Optional primitives (:data:`OPTIONAL`) have a correct default written on the required ones;
a backend overrides one only to do the same faster or more strongly: ``count_matches``
(default: count ``text_matches``), ``search_vectors`` (default: one ``search_vector`` per
query vector; SQLite scores them all in one pass over its matrix), ``export`` (default:
paged ``scan``; SQLite overrides it to read one snapshot), ``find_jobs`` (default: none:
a store that keeps no extraction jobs offers no retry list and no resume; SQLite and the
Cypher stores keep them).
The public reads (``get_facts``, ``list_entities``, ``search_text``,
``neighbourhood``, ...) are written here once and are not meant to be overridden.

Rules every backend keeps:

* every read and write is scoped by ``user_id``; records are keyed by ``(user_id, id)``;
* :meth:`apply` is atomic: a write set lands whole or not at all;
* every write of a user changes the user's write version (:meth:`write_version`), and a
  write set with ``if_version`` lands only while the version is still that value;
* episodes are insert-if-absent, entities and facts are upserts;
* vectors are never returned by search calls (only ids and scores);
* ``FactQuery.matches`` is the reference semantics of :meth:`find_facts`.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any, cast

import numpy as np

from memlane.memory_graph.io import record_to_dict
from memlane.memory_graph.jobs import ExtractionJob
from memlane.memory_graph.model import Entity, Episode, Fact, FactQuery, WriteSet
from memlane.memory_graph.stores import _search, _walk
from memlane.memory_graph.stores._ranking import SCORE_WINDOW
from memlane.memory_graph.stores._search import TextMatches, TextQuery
from memlane.memory_graph.stores._types import Hit, Record, SearchTarget, StoreInfo

__all__ = [
    "OPTIONAL",
    "REQUIRED",
    "GraphStore",
    "Hit",
    "Record",
    "SearchTarget",
    "StoreInfo",
    "TextMatches",
    "TextQuery",
]

REQUIRED = frozenset(
    {
        "open",
        "close",
        "apply",
        "write_version",
        "delete_facts",
        "forget_user",
        "get",
        "find_facts",
        "find_entities",
        "episodes_in_session",
        "facts_touching",
        "scan",
        "text_matches",
        "search_vector",
        "users",
        "counts",
        "info",
    }
)
"""The abstract primitives: a backend is these and nothing else."""

OPTIONAL = frozenset({"count_matches", "episodes_around", "export", "find_jobs", "search_vectors"})
"""Primitives with a default over the required ones, which a backend may override."""

SESSION_SCAN = 100
"""Turns of one session the default :meth:`GraphStore.episodes_around` reads (the newest):
a message older than that in a longer session gets no neighbours from the default (SQLite and
the Cypher stores override it with ordered walks of the session)."""

TARGETS: tuple[SearchTarget, ...] = ("episode", "entity", "fact")
"""Record types in export order."""


class GraphStore(ABC):
    """A user-scoped temporal graph store."""

    url: str = ""

    score_window: int = SCORE_WINDOW
    """At most this many full-text matches are scored per search (``_search``)."""

    export_page: int = 1000
    """Records per ``scan`` call of the default :meth:`export`."""

    # -- lifecycle (required) ----------------------------------------------------------------
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

    # -- writes (required) -------------------------------------------------------------------
    @abstractmethod
    async def apply(self, writes: WriteSet) -> None:
        """Apply a write set atomically (all or nothing).

        Raises:
            ConflictError: ``writes.if_version`` is set and the user's write version is no
                longer that value (nothing was written).
        """

    @abstractmethod
    async def write_version(self, user_id: str) -> str:
        """The user's write version: an opaque token that every write of the user changes
        (``""`` before the first write and after :meth:`forget_user`).

        Read it before deriving a write set from the graph and pass it as
        ``WriteSet.if_version``: :meth:`apply` then raises ``ConflictError`` (writing
        nothing) if another writer, in any process, wrote the user's memory in between.
        """

    @abstractmethod
    async def delete_facts(self, user_id: str, fact_ids: Sequence[str]) -> int:
        """Hard-delete facts (``forget`` of single facts). Returns how many existed."""

    @abstractmethod
    async def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete everything of one user; returns counts deleted per record type."""

    # -- reads (required) --------------------------------------------------------------------
    @abstractmethod
    async def get(self, user_id: str, target: SearchTarget, ids: Sequence[str]) -> list[Record]:
        """Records of one type by id (missing ids are skipped), in the order asked, each once."""

    @abstractmethod
    async def find_facts(self, user_id: str, query: FactQuery) -> list[Fact]:
        """Facts matching ``query`` ordered by ``valid_at`` (then ``recorded_at``, ``id``)."""

    @abstractmethod
    async def find_entities(self, user_id: str, names: Sequence[str]) -> list[Entity]:
        """Entities whose normalised name or alias equals one of ``names`` (normalised)."""

    @abstractmethod
    async def episodes_in_session(
        self, user_id: str, session_id: str | None, limit: int = 20
    ) -> list[Episode]:
        """The most recent episodes of a session, oldest first."""

    @abstractmethod
    async def facts_touching(
        self, user_id: str, entity_ids: Sequence[str], exclude: Collection[str], limit: int
    ) -> list[Fact]:
        """Facts (any validity) with one of ``entity_ids`` as subject or object, except the
        ids in ``exclude``: the newest ``limit`` by ``COALESCE(valid_at, recorded_at)``
        descending, then ``recorded_at`` descending, then ``id``."""

    @abstractmethod
    async def scan(
        self, user_id: str, target: SearchTarget, offset: int, limit: int, *, vectors: bool
    ) -> list[tuple[Record, np.ndarray | None]]:
        """One page of a user's records of one type, with their vectors if ``vectors``.

        The order is stable: episodes by ``occurred_at, id``, entities and facts by ``id``
        (the order ``memlane.memory_graph.io`` documents for export).
        """

    # -- search (required) -------------------------------------------------------------------
    @abstractmethod
    async def text_matches(
        self, user_id: str, target: SearchTarget, query: TextQuery, limit: int
    ) -> TextMatches:
        """The user's newest ``limit`` records holding a word of ``query``, with the term
        counts, lengths and corpus statistics BM25 needs (``_search.TextMatches``)."""

    @abstractmethod
    async def search_vector(
        self, user_id: str, target: SearchTarget, vector: np.ndarray, k: int
    ) -> list[Hit]:
        """Cosine-similarity search over stored vectors; score is cosine similarity."""

    # -- whole-store (required) --------------------------------------------------------------
    @abstractmethod
    async def users(self) -> list[str]:
        """Every user id with at least one record, sorted."""

    @abstractmethod
    async def counts(self, user_id: str | None = None) -> dict[str, int]:
        """Record counts: keys ``episodes``, ``entities``, ``facts``."""

    async def find_jobs(
        self,
        user_id: str | None,
        statuses: Sequence[str],
        *,
        ids: Sequence[str] | None = None,
        limit: int = 10_000,
    ) -> list[ExtractionJob]:
        """Extraction jobs (``memory_graph.jobs``) in ``statuses``, of one user or all (and of
        ``ids`` when given), oldest first. Jobs are written by :meth:`apply`
        (``WriteSet.jobs``, upserts) and deleted by :meth:`forget_user`.

        Optional: a store that keeps no jobs returns none (no retry list, no resume).
        """
        return []

    @abstractmethod
    async def info(self) -> StoreInfo:
        """Connectivity, schema version and index status for ``memlane doctor``."""

    # -- optional primitives -----------------------------------------------------------------
    async def count_matches(self, user_id: str, target: SearchTarget, word: str, cap: int) -> int:
        """How many of the user's records hold ``word`` (one of a query's words), up to
        ``cap``. Default: count :meth:`text_matches`."""
        return len((await self.text_matches(user_id, target, TextQuery((word,)), cap)).ids)

    async def episodes_around(
        self, user_id: str, episode_ids: Sequence[str], before: int, after: int
    ) -> dict[str, list[Episode]]:
        """The turns around each of ``episode_ids`` in its session, in session order
        (``occurred_at``, then ``id``): up to ``before`` turns, the episode itself, up to
        ``after`` turns. Episodes that do not exist or have no session are left out.
        Default: the newest :data:`SESSION_SCAN` turns of each session, read together."""
        before, after = max(before, 0), max(after, 0)
        found = [e for e in await self.get_episodes(user_id, episode_ids) if e.session_id]
        sessions = sorted({e.session_id for e in found if e.session_id})
        turns = await asyncio.gather(
            *(self.episodes_in_session(user_id, s, SESSION_SCAN) for s in sessions)
        )
        where = {ep.id: (run, i) for run in turns for i, ep in enumerate(run)}
        out: dict[str, list[Episode]] = {}
        for ep in found:
            if ep.id in where:
                run, i = where[ep.id]
                out[ep.id] = run[max(i - before, 0) : i + after + 1]
        return out

    async def search_vectors(
        self, user_id: str, target: SearchTarget, vectors: Sequence[np.ndarray], k: int
    ) -> list[list[Hit]]:
        """:meth:`search_vector` for each of ``vectors`` (results in the same order).
        Default: one search per vector, made together."""
        return list(
            await asyncio.gather(*(self.search_vector(user_id, target, v, k) for v in vectors))
        )

    async def export(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a user as JSON-ready dicts in a stable order
        (``memlane.memory_graph.io``): episodes, entities, facts, each in :meth:`scan` order.
        Default: pages of :attr:`export_page` records."""
        for target in TARGETS:
            offset = 0
            while True:
                page = await self.scan(user_id, target, offset, self.export_page, vectors=True)
                for record, vector in page:
                    yield record_to_dict(record, vector)
                if len(page) < self.export_page:
                    break
                offset += len(page)

    # -- reads written once above the primitives ---------------------------------------------
    async def get_episodes(self, user_id: str, ids: Sequence[str]) -> list[Episode]:
        """Episodes by id (missing ids are skipped), in the order asked."""
        return cast(list[Episode], await self.get(user_id, "episode", ids) if ids else [])

    async def get_entities(self, user_id: str, ids: Sequence[str]) -> list[Entity]:
        """Entities by id (missing ids are skipped), in the order asked."""
        return cast(list[Entity], await self.get(user_id, "entity", ids) if ids else [])

    async def get_facts(self, user_id: str, ids: Sequence[str]) -> list[Fact]:
        """Facts by id (missing ids are skipped), in the order asked."""
        return cast(list[Fact], await self.get(user_id, "fact", ids) if ids else [])

    async def list_entities(self, user_id: str, limit: int = 10_000) -> list[Entity]:
        """All entities of a user (for entity linking), ordered by id."""
        page = await self.scan(user_id, "entity", 0, int(limit), vectors=False)
        return [cast(Entity, record) for record, _ in page]

    async def search_text(self, user_id: str, target: SearchTarget, text: str, k: int) -> list[Hit]:
        """Full-text search (OR of the query's words), ranked by BM25 with the user's own
        statistics within a bounded window (``_search``); user text is never query syntax."""
        return await _search.search_text(self, user_id, target, text, k)

    async def neighbourhood(
        self, user_id: str, entity_ids: Sequence[str], hops: int = 1, limit: int = 200
    ) -> list[Fact]:
        """Facts (any validity) on paths of up to ``hops`` edges from the given entities,
        nearest hop first and newest first within a hop (``_walk``)."""
        if not entity_ids or hops < 1 or limit < 1:
            return []
        return await _walk.neighbourhood(self, user_id, entity_ids, hops, limit)
