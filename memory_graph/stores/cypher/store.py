"""``CypherStore``: the :class:`GraphStore` port over any Cypher server, written once.

All statements are in :mod:`.queries`; the server differences are in :mod:`.dialect`; the
connection is a :class:`.session.CypherSession` (FalkorDB or Neo4j). This module turns
records into parameter rows and rows back into records.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Collection, Sequence
from typing import Any, cast

import numpy as np

from memlane.memory_graph.errors import ConflictError, InputError, StoreError
from memlane.memory_graph.jobs import ExtractionJob
from memlane.memory_graph.model import Entity, Episode, Fact, FactQuery, WriteSet, normalise_name
from memlane.memory_graph.stores._checks import check_write_set
from memlane.memory_graph.stores._ranking import Corpus, term_counts
from memlane.memory_graph.stores._ranking import words as stem_words
from memlane.memory_graph.stores._search import TextMatches, TextQuery
from memlane.memory_graph.stores._types import Hit, Record, SearchTarget, StoreInfo
from memlane.memory_graph.stores.base import GraphStore
from memlane.memory_graph.stores.cypher.queries import (
    LABELS,
    RANGE_INDEXES,
    SCHEMA_VERSION,
    SEARCHABLE,
    TEXT_PROP,
    VECTOR_PROP,
    VERSION_LABEL,
    Queries,
)
from memlane.memory_graph.stores.cypher.ranking import indexed_words, user_token, vector_param
from memlane.memory_graph.stores.cypher.records import fact_filter, param_rows, record_from_row
from memlane.memory_graph.stores.cypher.session import CypherSession, Rows
from memlane.memory_graph.stores.cypher.threads import CypherThreads

__all__ = ["CypherStore"]


def _episode(user_id: str, row: dict[str, Any]) -> Episode:
    return cast(Episode, record_from_row("episode", user_id, row))


def _fact(user_id: str, row: dict[str, Any]) -> Fact:
    return cast(Fact, record_from_row("fact", user_id, row))


log = logging.getLogger(__name__)

_STATS_TTL_S = 30.0
# Up to this many records of a user are searched exactly (a few ms); beyond, the HNSW index.
_EXACT_MAX = 5000
# Index states that serve queries, and how long opening a graph waits for new ones.
_ONLINE = ("ONLINE", "OPERATIONAL")
_INDEX_WAIT_S = 60.0


class CypherStore(GraphStore, CypherThreads):
    """A user-scoped temporal graph on a Cypher server (FalkorDB or Neo4j 5), keeping the
    chat threads of its users too (:class:`CypherThreads`)."""

    def __init__(self, session: CypherSession, *, url: str | None = None) -> None:
        self.session = session
        self.dialect = session.dialect
        self.q = Queries(self.dialect)
        self.url = url or session.display_url
        self._dims: dict[str, int] = {}
        self._open = False
        self._session_calls: dict[tuple[str, int], list[tuple[str, asyncio.Future[Any]]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # BM25 corpus statistics per (user, label): cheap to keep, slow to count on every
        # search (a scan of the user's nodes). Dropped on this store's writes; other
        # processes' writes show within _STATS_TTL_S (stale statistics only shift weights).
        self._text_stats: dict[tuple[str, str], tuple[float, Corpus]] = {}

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self._open:
            return
        await self.session.connect()
        try:
            await self._ensure_schema()
        except BaseException:
            await self.session.close()
            raise
        self._open = True

    async def close(self) -> None:
        self._open = False
        await self.session.close()

    async def _index_rows(self) -> Rows:
        return await self.session.read(self.dialect.list_indexes)

    async def _ensure_schema(self) -> None:
        """Create missing indexes and constraints (idempotent; safe to race with another)."""
        rows = await self._index_rows()
        have = {(i.label, i.properties, i.kind) for i in self.dialect.parse_indexes(rows)}
        wanted: list[tuple[tuple[str, tuple[str, ...], str], str | None]] = []
        for label, prop in RANGE_INDEXES:
            wanted.append(((label, (prop,), "range"), self.dialect.range_index(label, prop)))
        for label in LABELS:
            wanted.append(
                ((label, (TEXT_PROP,), "fulltext"), self.dialect.fulltext_index(label, TEXT_PROP))
            )
            wanted.append(((label, ("user_id", "id"), "unique"), self.dialect.unique_key(label)))
        # One version node per user: unique where MERGE could race (Neo4j), else indexed.
        version_key = self.dialect.unique_key(VERSION_LABEL, ("user_id",))
        if version_key is not None:
            wanted.append(((VERSION_LABEL, ("user_id",), "unique"), version_key))
        else:
            index = self.dialect.range_index(VERSION_LABEL, "user_id")
            wanted.append(((VERSION_LABEL, ("user_id",), "range"), index))
        created = False
        for key, ddl in wanted:
            if ddl is None or key in have:
                continue
            await self._ddl(ddl, key)
            created = True
        if created:
            await self._await_indexes()
        for label in LABELS:
            dim = self.dialect.vector_dimension(rows, label)
            if dim is not None:
                self._dims[label] = dim
        meta = await self.session.read(self.q.read_meta)
        version = meta[0]["version"] if meta else None
        if version is not None and int(version) < SCHEMA_VERSION:
            await self._upgrade(int(version))
        if version is None or int(version) < SCHEMA_VERSION:
            await self.session.write(self.q.write_meta, {"version": SCHEMA_VERSION})
        elif int(version) > SCHEMA_VERSION:
            raise StoreError(
                f"the graph has schema version {version}; this memlane knows up to "
                f"{SCHEMA_VERSION}: upgrade memlane",
                where=self.url,
            )

    async def _await_indexes(self) -> None:
        """Wait until new indexes are online: Neo4j has a procedure for it; FalkorDB builds
        a label's index again when a property joins it, so its listing is polled (bounded)."""
        if self.dialect.await_indexes:
            await self.session.write(self.dialect.await_indexes)
            return
        deadline = time.monotonic() + _INDEX_WAIT_S
        while time.monotonic() < deadline:
            specs = self.dialect.parse_indexes(await self._index_rows())
            if all(s.state in _ONLINE for s in specs):
                return
            await asyncio.sleep(0.05)
        log.warning("%s: indexes still building after %.0fs", self.url, _INDEX_WAIT_S)

    async def _upgrade(self, version: int, page: int = 2000) -> None:
        """Bring a graph written by an older schema up to :data:`SCHEMA_VERSION`.

        1 -> 2: every searchable text gets its user's token in front. Idempotent (a text
        that has it is left alone), so processes that open the graph together both finish.
        """
        if version >= 2:
            return
        log.info("upgrading %s from schema %d to %d", self.url, version, SCHEMA_VERSION)
        for label in LABELS:
            skip = 0
            while True:
                rows = await self.session.read(
                    self.q.scan_text[label], {"skip": skip, "limit": page}
                )
                changed = []
                for r in rows:
                    own = indexed_words(r["text"], r["user_id"])
                    text = f"{user_token(r['user_id'])} {own}".rstrip()
                    if text != r["text"]:
                        changed.append({"user_id": r["user_id"], "id": r["id"], "text": text})
                if changed:
                    await self.session.write(self.q.set_text[label], {"rows": changed})
                if len(rows) < page:
                    break
                skip += page

    async def _ddl(self, ddl: str, key: tuple[str, tuple[str, ...], str]) -> None:
        try:
            await self.session.write(ddl)
        except StoreError:
            # Another process may have created it between our check and our DDL.
            rows = await self._index_rows()
            have = {(i.label, i.properties, i.kind) for i in self.dialect.parse_indexes(rows)}
            if key not in have:
                raise

    async def _ensure_vector_index(self, label: str, dim: int) -> None:
        known = self._dims.get(label)
        if known is None:
            rows = await self._index_rows()
            known = self.dialect.vector_dimension(rows, label)
        if known is None:
            ddl = self.dialect.vector_index(label, VECTOR_PROP, dim)
            await self._ddl(ddl, (label, (VECTOR_PROP,), "vector"))
            await self._await_indexes()
            rows = await self._index_rows()
            known = self.dialect.vector_dimension(rows, label)
            if known is None:
                raise StoreError(f"vector index on {label} was not created", where=self.url)
        self._dims[label] = known
        if known != dim:
            raise StoreError(
                f"{label.lower()} vectors have {dim} dimensions but this graph's vector index "
                f"has {known}; use the embedder the graph was built with",
                where=self.url,
            )

    def _params(self, user_id: str, **extra: Any) -> dict[str, Any]:
        """Every statement's parameters start from ``user_id`` (see ``queries.node``)."""
        return {"user_id": user_id, **extra}

    # -- writes ------------------------------------------------------------------------------
    async def apply(self, writes: WriteSet) -> None:
        vectors = check_write_set(writes)  # before the server is touched
        if writes.is_empty() and not any(vectors.values()):
            return
        written = {
            "episode": {e.id for e in writes.episodes},
            "entity": {e.id for e in writes.entities},
            "fact": {f.id for f in writes.facts},
        }
        for target, by_id in vectors.items():
            if not by_id:
                continue
            label = SEARCHABLE[target]
            dims = {v.shape[0] for v in by_id.values()}
            if len(dims) > 1:
                raise InputError(f"{target} vectors of mixed dimensions {sorted(dims)}")
            await self._ensure_vector_index(label, dims.pop())
            # A vector may update a stored record; one for no record at all is an error
            # (checked before the write: a FalkorDB statement cannot be aborted halfway).
            elsewhere = [rid for rid in by_id if rid not in written[target]]
            if elsewhere:
                rows = await self.session.read(
                    self.q.existing[label], self._params(writes.user_id, ids=elsewhere)
                )
                missing = sorted(set(elsewhere) - {r["id"] for r in rows})
                if missing:
                    raise InputError(
                        f"vector for {target} {missing[0]!r}, which is neither in the write "
                        "set nor stored",
                        where=f"{target} {missing[0]} vector",
                    )
        params = self._params(
            writes.user_id,
            token=uuid.uuid4().hex,
            episodes=param_rows(writes.episodes),
            entities=param_rows(writes.entities),
            facts=param_rows(writes.facts),
            entity_ids=[e.id for e in writes.entities],
            jobs=[
                {
                    "id": j.id,
                    "status": j.status,
                    "created_at": j.created_at.isoformat(),
                    "record": j.to_json(),
                }
                for j in writes.jobs
            ],
            vectors={
                SEARCHABLE[target]: [
                    {"id": rid, "vec": vector_param(v)} for rid, v in by_id.items()
                ]
                for target, by_id in vectors.items()
            },
        )
        self._changed(writes.user_id)
        rows = await self.session.write(self.q.apply, {**params, "if_version": writes.if_version})
        if not rows:
            raise ConflictError(
                f"the memory of user {writes.user_id!r} changed while this write was prepared",
                where="user_id",
            )

    async def write_version(self, user_id: str) -> str:
        if self.dialect.lock_to_read_version:
            params = self._params(user_id, token=uuid.uuid4().hex)
            rows = await self.session.write(self.q.write_version_locked, params)
        else:
            rows = await self.session.read(self.q.write_version, self._params(user_id))
        return str(rows[0]["version"] or "") if rows else ""

    async def delete_facts(self, user_id: str, fact_ids: Sequence[str]) -> int:
        if not fact_ids:
            return 0
        self._changed(user_id)
        rows = await self.session.write(
            self.q.delete_facts,
            self._params(user_id, ids=list(dict.fromkeys(fact_ids)), token=uuid.uuid4().hex),
        )
        return int(rows[0]["deleted"]) if rows else 0

    async def forget_user(self, user_id: str) -> dict[str, int]:
        self._changed(user_id)
        # One statement: the memory, jobs, chat threads and write version together.
        rows = await self.session.write(self.q.forget, self._params(user_id))
        got = rows[0] if rows else {}
        out = {key: int(got.get(key) or 0) for key in ("episodes", "entities", "facts")}
        if got.get("checkpoints"):
            out["checkpoints"] = int(got["checkpoints"])
        return out

    async def find_jobs(
        self,
        user_id: str | None,
        statuses: Sequence[str],
        *,
        ids: Sequence[str] | None = None,
        limit: int = 10_000,
    ) -> list[ExtractionJob]:
        params = {
            "user_id": user_id,
            "statuses": list(statuses),
            "ids": None if ids is None else list(ids),
            "limit": int(limit),
        }
        rows = await self.session.read(self.q.find_jobs, params)
        return [ExtractionJob.from_json(r["record"]) for r in rows]

    # -- reads -------------------------------------------------------------------------------
    async def _get(self, label: str, user_id: str, ids: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        rows = await self.session.read(self.q.get[label], self._params(user_id, ids=list(ids)))
        by_id = {r["id"]: r for r in rows}
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]

    async def get(self, user_id: str, target: SearchTarget, ids: Sequence[str]) -> list[Record]:
        label = SEARCHABLE[target]
        return [record_from_row(target, user_id, r) for r in await self._get(label, user_id, ids)]

    async def find_facts(self, user_id: str, query: FactQuery) -> list[Fact]:
        where, params = fact_filter(query)
        rows = await self.session.read(
            self.q.find_facts(where, query.newest_first), self._params(user_id, **params)
        )
        return [_fact(user_id, r) for r in rows]

    async def find_entities(self, user_id: str, names: Sequence[str]) -> list[Entity]:
        keys = list(dict.fromkeys(k for k in (normalise_name(n) for n in names) if k))
        if not keys:
            return []
        rows = await self.session.read(self.q.find_entities, self._params(user_id, keys=keys))
        return [cast(Entity, record_from_row("entity", user_id, r)) for r in rows]

    async def episodes_in_session(
        self, user_id: str, session_id: str | None, limit: int = 20
    ) -> list[Episode]:
        if session_id is None:
            rows = await self.session.read(
                self.q.no_session_episodes, self._params(user_id, limit=int(limit))
            )
            return [_episode(user_id, r) for r in reversed(rows)]
        # Calls made together (``asyncio.gather`` over a reply's sessions) share one
        # statement: one round trip instead of one per session.
        key = (user_id, int(limit))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Episode]] = loop.create_future()
        waiting = self._session_calls.get(key)
        if waiting is None:
            waiting = self._session_calls[key] = []
            loop.call_soon(self._start_session_batch, key)
        waiting.append((session_id, future))
        return await future

    async def episodes_around(
        self, user_id: str, episode_ids: Sequence[str], before: int, after: int
    ) -> dict[str, list[Episode]]:
        if not episode_ids:
            return {}
        params = self._params(
            user_id,
            ids=list(dict.fromkeys(episode_ids)),
            before=max(int(before), 0),
            after=max(int(after), 0),
        )
        out: dict[str, list[Episode]] = {}
        for r in await self.session.read(self.q.episodes_around, params):
            out.setdefault(r["center"], []).append(_episode(user_id, r))
        return out

    def _start_session_batch(self, key: tuple[str, int]) -> None:
        task = asyncio.ensure_future(self._session_batch(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _session_batch(self, key: tuple[str, int]) -> None:
        user_id, limit = key
        waiting = self._session_calls.pop(key, [])
        sessions = sorted({sid for sid, _ in waiting})
        try:
            rows = await self.session.read(
                self.q.sessions_episodes, self._params(user_id, sessions=sessions, limit=limit)
            )
        except BaseException as exc:
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        by_session: dict[str, list[Episode]] = {}
        for r in rows:
            by_session.setdefault(r["session_id"], []).append(_episode(user_id, r))
        for sid, future in waiting:
            if not future.done():
                future.set_result(list(reversed(by_session.get(sid, []))))

    # -- search ------------------------------------------------------------------------------
    async def text_matches(
        self, user_id: str, target: SearchTarget, query: TextQuery, limit: int
    ) -> TextMatches:
        """The server's full-text index finds the user's newest nodes holding a term (the
        stored text is pre-stemmed, so the index is asked for the stems); the terms are
        counted here in the returned text."""
        terms = list(query.terms)
        fulltext = self.dialect.fulltext_query(terms, user_token(user_id))
        if fulltext is None or limit <= 0:
            return TextMatches.none(len(terms))
        rows = await self.session.read(
            self.q.fulltext[target], self._params(user_id, q=fulltext, limit=int(limit))
        )
        ids, texts = (rows[0]["ids"] or [], rows[0]["texts"] or []) if rows else ([], [])
        if not ids:
            return TextMatches.none(len(terms))
        tf, dl = term_counts([indexed_words(t, user_id) for t in texts], terms)
        corpus = await self._corpus(user_id, target)
        return TextMatches([str(i) for i in ids], tf, dl, corpus)

    async def count_matches(self, user_id: str, target: SearchTarget, word: str, cap: int) -> int:
        query = self.dialect.fulltext_query(stem_words(word), user_token(user_id))
        if query is None:
            return 0
        rows = await self.session.read(
            self.q.fulltext_count[target], self._params(user_id, q=query, limit=int(cap))
        )
        return int(rows[0]["n"]) if rows else 0

    async def _corpus(self, user_id: str, target: SearchTarget) -> Corpus:
        """Documents and total words of a user's ``target`` records (BM25 statistics)."""
        now = time.monotonic()
        cached = self._text_stats.get((user_id, target))
        if cached is not None and now - cached[0] < _STATS_TTL_S:
            return cached[1]
        stats = await self.session.read(self.q.text_stats[target], self._params(user_id))
        docs = int(stats[0]["docs"] or 0) if stats else 0
        total = int(stats[0]["words"] or 0) if stats else 0
        corpus = Corpus(docs, total)
        self._text_stats[(user_id, target)] = (now, corpus)
        return corpus

    def _changed(self, user_id: str) -> None:
        for key in [k for k in self._text_stats if k[0] == user_id]:
            del self._text_stats[key]

    async def search_vector(
        self, user_id: str, target: SearchTarget, vector: np.ndarray, k: int
    ) -> list[Hit]:
        label = SEARCHABLE[target]
        vec = np.asarray(vector, dtype=np.float32).ravel()
        dim = self._dims.get(label)
        if k <= 0 or dim is None or vec.shape[0] != dim or not np.any(vec):
            return []
        values = vector_param(vec)
        corpus = await self._corpus(user_id, target)
        mine: Rows = []
        if corpus.docs > _EXACT_MAX:
            # The approximate index is shared by every user of the graph: ask for a few more
            # than k and keep this user's.
            fetch = k + 10
            rows = await self.session.read(
                self.q.vector[target], self._params(user_id, n=fetch, v=values)
            )
            mine = [r for r in rows if r["mine"]]
        if len(mine) < k:
            # Small users (exact and deterministic, like SQLite), or a user crowded out of
            # the shared index by others: scan this user's vectors.
            mine = await self.session.read(
                self.q.vector_exact[target], self._params(user_id, v=values, k=int(k))
            )
        hits = [Hit(r["id"], self.dialect.similarity(r["score"])) for r in mine]
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits[:k]

    async def facts_touching(
        self, user_id: str, entity_ids: Sequence[str], exclude: Collection[str], limit: int
    ) -> list[Fact]:
        if not entity_ids or limit < 1:
            return []
        rows = await self.session.read(
            self.q.touching,
            self._params(
                user_id, ids=list(dict.fromkeys(entity_ids)), exclude=list(exclude), limit=limit
            ),
        )
        return [_fact(user_id, r) for r in rows]

    # -- whole-store -------------------------------------------------------------------------
    async def users(self) -> list[str]:
        rows = await self.session.read(self.q.users)
        return sorted({r["user_id"] for r in rows if r["user_id"] is not None})

    async def counts(self, user_id: str | None = None) -> dict[str, int]:
        out: dict[str, int] = {}
        for label, key in (("Episode", "episodes"), ("Entity", "entities"), ("Fact", "facts")):
            if user_id is None:
                rows = await self.session.read(self.q.count_all[label])
            else:
                rows = await self.session.read(self.q.count_user[label], self._params(user_id))
            out[key] = int(rows[0]["n"]) if rows else 0
        return out

    async def _vectors(self, label: str, user_id: str, ids: list[str]) -> dict[str, np.ndarray]:
        if label not in self._dims or not ids:
            return {}
        rows = await self.session.read(self.q.get_embeddings[label], self._params(user_id, ids=ids))
        return {r["id"]: np.asarray(r["vec"], dtype=np.float32) for r in rows}

    async def scan(
        self, user_id: str, target: SearchTarget, offset: int, limit: int, *, vectors: bool
    ) -> list[tuple[Record, np.ndarray | None]]:
        label = SEARCHABLE[target]
        rows = await self.session.read(
            self.q.export_page[label], self._params(user_id, skip=int(offset), limit=int(limit))
        )
        found = await self._vectors(label, user_id, [r["id"] for r in rows]) if vectors else {}
        return [(record_from_row(target, user_id, r), found.get(r["id"])) for r in rows]

    async def info(self) -> StoreInfo:
        problems: list[str] = []
        details: dict[str, Any] = {"dialect": self.dialect.name}
        try:
            if not self._open:
                await self.open()
            details["server"] = await self.session.server_version()
            rows = await self._index_rows()
            specs = self.dialect.parse_indexes(rows)
            details["indexes"] = [
                f"{s.kind} {s.label}({', '.join(s.properties)}) {s.state}" for s in specs
            ]
            have = {(s.label, s.properties, s.kind) for s in specs}
            for label, prop in RANGE_INDEXES:
                if (label, (prop,), "range") not in have:
                    problems.append(f"missing range index on {label}.{prop}")
            for label in LABELS:
                if (label, (TEXT_PROP,), "fulltext") not in have:
                    problems.append(f"missing full-text index on {label}.{TEXT_PROP}")
            problems += [
                f"index {s.kind} {s.label}({', '.join(s.properties)}) is {s.state}"
                for s in specs
                if s.state not in _ONLINE
            ]
            details["vector_dimensions"] = dict(self._dims)
            meta = await self.session.read(self.q.read_meta)
            details["schema_version"] = meta[0]["version"] if meta else None
            if details["schema_version"] != SCHEMA_VERSION:
                problems.append(
                    f"schema version is {details['schema_version']}, expected {SCHEMA_VERSION}"
                )
            details["counts"] = await self.counts()
        except StoreError as exc:
            problems.append(str(exc))
        return StoreInfo(
            url=self.url,
            backend=self.dialect.name,
            ok=not problems,
            details=details,
            problems=tuple(problems),
        )
