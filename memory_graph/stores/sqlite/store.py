"""The embedded store: one SQLite file (WAL, FTS5, float32 vectors with numpy cosine).

Threading: ``sqlite3`` is synchronous, so every database call runs on one dedicated worker
thread that owns the single connection and the vector cache; the event loop never blocks
on disk and no lock is needed. Calls are served in order, one at a time; calls made together
travel to the thread and back as one batch (``_batch``).

Durability: WAL with ``synchronous=NORMAL``. In WAL mode NORMAL never corrupts the file and
never splits a transaction on any crash (a killed process loses nothing committed); only a
power loss or OS crash may drop the last few commits. FULL would add an fsync to every
turn's commit for that case alone, which a chat memory does not need.
"""

from __future__ import annotations

import functools
import json
import logging
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from memlane.memory_graph.errors import ConflictError, InputError, MemlaneError, StoreError
from memlane.memory_graph.io import record_to_dict
from memlane.memory_graph.jobs import ExtractionJob
from memlane.memory_graph.model import Entity, Episode, Fact, FactQuery, WriteSet, normalise_name
from memlane.memory_graph.stores._checks import check_write_set, vector_f32
from memlane.memory_graph.stores._codec import FIELDS
from memlane.memory_graph.stores._ranking import Corpus
from memlane.memory_graph.stores._search import TextMatches, TextQuery
from memlane.memory_graph.stores._types import Hit, Record, SearchTarget, StoreInfo
from memlane.memory_graph.stores.base import TARGETS, GraphStore
from memlane.memory_graph.stores.sqlite import _jobs, _threads
from memlane.memory_graph.stores.sqlite import _sql as q
from memlane.memory_graph.stores.sqlite._batch import BatchWorker
from memlane.memory_graph.stores.sqlite._records import RecordCache
from memlane.memory_graph.stores.sqlite._threads import SQLiteThreads
from memlane.memory_graph.stores.sqlite._vectors import VectorCache, VectorIndex
from memlane.memory_graph.stores.sqlite.migrations import MIGRATIONS, applied_migrations, migrate
from memlane.memory_graph.timeutil import to_ms

__all__ = ["SQLiteStore"]

log = logging.getLogger(__name__)
T = TypeVar("T")


_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA cache_size = -65536",
    # Freed pages are zeroed, so a forgotten user's text does not linger in the file.
    "PRAGMA secure_delete = ON",
)


def _next_version(conn: sqlite3.Connection, user_id: str, expected: str | None) -> None:
    """Check the user's write version (inside the write transaction: IMMEDIATE holds the
    file's write lock, so no other process writes in between) and replace it."""
    if expected is not None:
        row = conn.execute(
            "SELECT version FROM write_versions WHERE user_id = ?", (user_id,)
        ).fetchone()
        if (str(row[0]) if row else "") != expected:
            raise ConflictError(
                f"the memory of user {user_id!r} changed while this write was prepared",
                where="user_id",
            )
    conn.execute(
        "INSERT INTO write_versions (user_id, version) VALUES (?, ?) "
        "ON CONFLICT (user_id) DO UPDATE SET version = excluded.version",
        (user_id, uuid.uuid4().hex),
    )


def _target(target: str) -> tuple[str, str, str]:
    try:
        return q.TARGETS[target]
    except KeyError:
        raise InputError(
            f"unknown search target {target!r}; expected one of {', '.join(q.TARGETS)}",
            where="target",
        ) from None


class SQLiteStore(GraphStore, SQLiteThreads):
    """A :class:`GraphStore` in one SQLite file, which keeps its users' chat threads too
    (:class:`~._threads.SQLiteThreads`).

    Args:
        path: the database file; parent directories are created on :meth:`open`.
        url: the URL it was opened from (for messages and ``info``).
        vector_cache_bytes: memory budget of the in-process vector matrices.
        record_cache_size: decoded records kept in memory (``_records.RecordCache``; 0: none).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        url: str = "",
        vector_cache_bytes: int = 1 << 30,
        record_cache_size: int = 100_000,
    ):
        self.path = Path(path)
        self.url = url or f"sqlite:///{self.path}"
        self._conn: sqlite3.Connection | None = None
        self._worker: BatchWorker | None = None
        self._cache = VectorCache(vector_cache_bytes)
        self._records = RecordCache(record_cache_size)
        self._data_version = 0

    @property
    def record_cache(self) -> RecordCache:
        """The decoded records kept in memory (its ``hits``/``misses`` say how warm it is)."""
        return self._records

    # -- plumbing ----------------------------------------------------------------------------
    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._worker is None or self._conn is None:
            raise StoreError("the store is not open (call open() first)", where=self.url)
        return await self._worker.call(functools.partial(fn, *args))

    @property
    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None
        return self._conn

    def _check_cache(self) -> None:
        # data_version changes when another connection (another process) commits; our caches
        # then no longer reflect the file.
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._cache.clear()
            self._records.clear()
            self._data_version = version

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` in one IMMEDIATE transaction; any failure rolls everything back."""
        conn = self._db
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"could not start a write: {exc}", where=self.url) from exc
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, MemlaneError):
                raise
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"write failed and was rolled back: {exc}", where=self.url
                ) from exc
            raise
        return result

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self._conn is not None:
            return
        self._worker = BatchWorker("memlane-sqlite")
        try:
            self._conn = await self._worker.run(self._connect)
        except BaseException:
            self._worker.shutdown(wait=False)
            self._worker = None
            raise

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {self.path}: {exc}", where=self.url) from exc
        try:
            for pragma in _PRAGMAS:
                conn.execute(pragma)
            migrate(conn)
            self._data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot prepare {self.path}: {exc}", where=self.url) from exc
        return conn

    async def close(self) -> None:
        if self._conn is None or self._worker is None:
            return
        conn, worker = self._conn, self._worker
        try:
            await worker.call(conn.close)  # after the calls already made
        finally:
            self._conn = None
            self._worker = None
            self._cache.clear()
            self._records.clear()
            worker.shutdown(wait=True)

    # -- writes ------------------------------------------------------------------------------
    async def apply(self, writes: WriteSet) -> None:
        vectors = check_write_set(writes)  # before the database is touched
        if writes.is_empty() and not any(vectors.values()):
            return
        await self._run(self._apply, writes, vectors)

    def _apply(self, writes: WriteSet, vectors: dict[str, dict[str, np.ndarray]]) -> None:
        self._check_cache()

        def tx(conn: sqlite3.Connection) -> None:
            _next_version(conn, writes.user_id, writes.if_version)
            conn.executemany(q.INSERT_EPISODE, [q.episode_params(e) for e in writes.episodes])
            if writes.entities:
                conn.executemany(q.UPSERT_ENTITY, [q.entity_params(e) for e in writes.entities])
                keys = [(e.user_id, e.id) for e in writes.entities]
                conn.executemany(q.DELETE_ENTITY_NAMES, keys)
                conn.executemany(
                    q.INSERT_ENTITY_NAME,
                    [(k, e.user_id, e.id) for e in writes.entities for k in q.name_keys(e)],
                )
            conn.executemany(q.UPSERT_FACT, [q.fact_params(f) for f in writes.facts])
            _jobs.write(conn, writes.jobs)
            for target, by_id in vectors.items():
                if by_id:
                    self._write_vectors(conn, writes.user_id, target, by_id)

        try:
            self._write(tx)
        finally:  # whether or not it committed, these rows may have changed
            for target, records in (
                ("episode", writes.episodes),
                ("entity", writes.entities),
                ("fact", writes.facts),
            ):
                self._records.evict(target, writes.user_id, (r.id for r in records))
        for target, by_id in vectors.items():
            if by_id:
                self._cache.upsert(writes.user_id, target, by_id)

    def _write_vectors(
        self, conn: sqlite3.Connection, user_id: str, target: str, by_id: dict[str, np.ndarray]
    ) -> None:
        rows = [(v.shape[0], v.tobytes(), user_id, rid) for rid, v in by_id.items()]
        cur = conn.executemany(q.upsert_vector_sql(target), rows)
        if cur.rowcount != len(rows):
            records = q.TARGETS[target][0]
            known = {
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM {records} WHERE user_id = ? "
                    "AND id IN (SELECT value FROM json_each(?))",
                    (user_id, json.dumps(list(by_id))),
                )
            }
            missing = sorted(set(by_id) - known)
            raise InputError(
                f"vector for {target} {missing[0]!r}, which is neither in the write set nor stored",
                where=f"{target} {missing[0]} vector",
            )

    async def write_version(self, user_id: str) -> str:
        return await self._run(self._write_version, user_id)

    def _write_version(self, user_id: str) -> str:
        row = self._db.execute(
            "SELECT version FROM write_versions WHERE user_id = ?", (user_id,)
        ).fetchone()
        return str(row[0]) if row else ""

    async def delete_facts(self, user_id: str, fact_ids: Sequence[str]) -> int:
        ids = list(dict.fromkeys(fact_ids))
        if not ids:
            return 0
        return await self._run(self._delete_facts, user_id, ids)

    def _delete_facts(self, user_id: str, ids: list[str]) -> int:
        self._check_cache()

        def tx(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "DELETE FROM facts WHERE user_id = ? AND id IN (SELECT value FROM json_each(?))",
                (user_id, json.dumps(ids)),
            )
            if cur.rowcount:
                _next_version(conn, user_id, None)
            return cur.rowcount

        try:
            deleted = self._write(tx)
        finally:
            self._records.evict("fact", user_id, ids)
        self._cache.remove(user_id, "fact", ids)
        return deleted

    async def forget_user(self, user_id: str) -> dict[str, int]:
        return await self._run(self._forget_user, user_id)

    def _forget_user(self, user_id: str) -> dict[str, int]:
        thread_writes = 0

        def tx(conn: sqlite3.Connection) -> dict[str, int]:
            nonlocal thread_writes
            counts = {}
            # Entity names and vectors go by ON DELETE CASCADE; FTS rows by trigger.
            for key, table in (
                ("facts", "facts"),
                ("entities", "entities"),
                ("episodes", "episodes"),
            ):
                counts[key] = conn.execute(
                    f"DELETE FROM {table} WHERE user_id = ?", (user_id,)
                ).rowcount
            # The triggers left the user's statistics at zero; the user id goes too.
            conn.execute("DELETE FROM text_stats WHERE user_id = ?", (user_id,))
            conn.execute("DELETE FROM write_versions WHERE user_id = ?", (user_id,))
            _jobs.delete_user(conn, user_id)
            threads, thread_writes = _threads.forget(conn, user_id)
            if threads:
                counts["checkpoints"] = threads
            if any(counts.values()):
                # Merge the FTS segments so no deleted token survives in an old segment.
                for _, fts, _ in q.TARGETS.values():
                    conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")
            return counts

        try:
            counts = self._write(tx)
        finally:
            self._records.drop_user(user_id)
        self._cache.drop_user(user_id)
        if any(counts.values()) or thread_writes:
            # Old page images in the WAL would still hold the user's data.
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy:
                log.info("WAL checkpoint after forget deferred: other readers are active")
        return counts

    # -- reads by id / filter ----------------------------------------------------------------
    def _by_ids(self, target: str, user_id: str, ids: list[str]) -> list[Any]:
        """The records of ``ids`` that exist, in the order asked, from the record cache
        where it holds them, else read and decoded once."""
        self._check_cache()
        wanted = list(dict.fromkeys(ids))
        found = self._records.get(target, user_id, wanted)
        missing = [i for i in wanted if i not in found]
        if missing:
            rows = self._db.execute(
                f"SELECT {q.COLS[target]} FROM {q.TARGETS[target][0]} WHERE user_id = ? "
                "AND id IN (SELECT value FROM json_each(?))",
                (user_id, json.dumps(missing)),
            )
            found.update((r.id, r) for r in self._decoded(target, rows))
        return [found[i] for i in wanted if i in found]

    async def get(self, user_id: str, target: SearchTarget, ids: Sequence[str]) -> list[Record]:
        _target(target)
        if not ids:
            return []
        return await self._run(self._by_ids, target, user_id, list(ids))

    async def find_facts(self, user_id: str, query: FactQuery) -> list[Fact]:
        where = ["user_id = ?"]
        params: list[Any] = [user_id]
        for column in ("subject_id", "predicate", "object_id"):
            value = getattr(query, column)
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.kinds:
            where.append("kind IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(query.kinds)))
        if query.current_only:
            where.append("invalid_at IS NULL AND expired_at IS NULL")
        if query.as_of is not None:
            # FactQuery.matches -> Fact.valid_during: started by then, not yet invalid.
            when = to_ms(query.as_of)
            where.append(
                "(valid_at IS NULL OR valid_at <= ?) AND (invalid_at IS NULL OR invalid_at > ?)"
            )
            params += [when, when]
        if query.as_of is not None or not query.include_retracted:
            where.append("NOT (expired_at IS NOT NULL AND invalid_at IS NULL)")
        sql = (
            f"SELECT {q.FACT_COLS} FROM facts WHERE {' AND '.join(where)} "
            f"ORDER BY {q.FACT_ORDER_NEWEST if query.newest_first else q.FACT_ORDER} LIMIT ?"
        )
        params.append(query.limit)
        return await self._run(self._select, "fact", sql, params)

    def _select(self, target: str, sql: str, params: Sequence[Any]) -> list[Any]:
        """The records of ``target`` that ``sql`` (selecting ``q.COLS[target]``) finds."""
        self._check_cache()
        return self._decoded(target, self._db.execute(sql, params))

    def _decoded(self, target: str, rows: Iterable[Sequence[Any]]) -> list[Any]:
        """The records of rows of ``q.COLS[target]``; a row decoded before is not decoded
        again (``RecordCache``; the caller has checked it is current)."""
        conv, decode = functools.partial(q.record_row, target), self._records.decode
        return [decode(target, row, conv) for row in rows]

    async def find_entities(self, user_id: str, names: Sequence[str]) -> list[Entity]:
        keys = list(dict.fromkeys(k for k in (normalise_name(n) for n in names) if k))
        if not keys:
            return []
        sql = (
            f"SELECT {', '.join('e.' + c.strip() for c in q.ENTITY_COLS.split(','))} "
            "FROM entities e WHERE e.user_id = ? AND e.pk IN ("
            " SELECT entity_pk FROM entity_names WHERE user_id = ?"
            " AND norm IN (SELECT value FROM json_each(?))) ORDER BY e.id"
        )
        return await self._run(self._select, "entity", sql, (user_id, user_id, json.dumps(keys)))

    async def episodes_in_session(
        self, user_id: str, session_id: str | None, limit: int = 20
    ) -> list[Episode]:
        session = "session_id IS NULL" if session_id is None else "session_id = ?"
        params: list[Any] = [user_id] if session_id is None else [user_id, session_id]
        sql = (
            f"SELECT * FROM (SELECT {q.EPISODE_COLS} FROM episodes WHERE user_id = ? AND "
            f"{session} ORDER BY occurred_at DESC, id DESC LIMIT ?) ORDER BY occurred_at, id"
        )
        return await self._run(self._select, "episode", sql, [*params, limit])

    async def episodes_around(
        self, user_id: str, episode_ids: Sequence[str], before: int, after: int
    ) -> dict[str, list[Episode]]:
        if not episode_ids:
            return {}
        return await self._run(
            self._episodes_around, user_id, list(episode_ids), max(before, 0), max(after, 0)
        )

    def _episodes_around(
        self, user_id: str, ids: list[str], before: int, after: int
    ) -> dict[str, list[Episode]]:
        # Two short walks of the session index per episode, not the session read whole.
        cols = q.EPISODE_COLS
        walk = (
            f"SELECT {cols} FROM episodes WHERE user_id = ? AND session_id = ? "
            "AND (occurred_at, id) {op} (?, ?) ORDER BY occurred_at {order}, id {order} LIMIT ?"
        )
        earlier, later = walk.format(op="<", order="DESC"), walk.format(op=">", order="")
        out: dict[str, list[Episode]] = {}
        for ep in self._by_ids("episode", user_id, ids):  # checks the cache is current
            if ep.session_id is None:
                continue
            key = (user_id, ep.session_id, to_ms(ep.occurred_at), ep.id)
            prev = self._decoded("episode", self._db.execute(earlier, (*key, before)))
            nxt = self._decoded("episode", self._db.execute(later, (*key, after)))
            out[ep.id] = [*reversed(prev), ep, *nxt]
        return out

    # -- search ------------------------------------------------------------------------------
    async def text_matches(
        self, user_id: str, target: SearchTarget, query: TextQuery, limit: int
    ) -> TextMatches:
        """FTS5 finds the user's newest records holding a query word (its porter tokenizer
        stems them as ``_ranking.words`` does); the counts come back computed in SQL, with
        the user's statistics from ``text_stats``."""
        records, fts, _ = _target(target)
        if not query.words or limit <= 0:
            return TextMatches.none(len(query.terms))
        return await self._run(self._text_matches, target, records, fts, user_id, query, limit)

    def _text_matches(
        self, target: str, records: str, fts: str, user_id: str, query: TextQuery, limit: int
    ) -> TextMatches:
        conn = self._db
        terms = query.terms
        sql = q.matches_sql(records, fts, len(terms))
        params = (*q.term_params(terms), q.fts_match(user_id, query.words), user_id, limit)
        found, ids, numbers = conn.execute(sql, params).fetchone()
        if not found:
            return TextMatches.none(len(terms))
        counts = np.array(numbers.split(), dtype=np.float64).reshape(found, len(terms) + 1)
        stats = conn.execute(
            "SELECT docs, words FROM text_stats WHERE user_id = ? AND target = ?",
            (user_id, target),
        ).fetchone()
        return TextMatches(json.loads(ids), counts[:, 1:], counts[:, 0], Corpus(*(stats or (0, 0))))

    async def count_matches(self, user_id: str, target: SearchTarget, word: str, cap: int) -> int:
        _, fts, _ = _target(target)
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH ? LIMIT ?)"
        return await self._run(self._count, sql, (q.fts_match(user_id, [word]), cap))

    def _count(self, sql: str, params: Sequence[Any]) -> int:
        return int(self._db.execute(sql, params).fetchone()[0])

    async def search_vector(
        self, user_id: str, target: SearchTarget, vector: np.ndarray, k: int
    ) -> list[Hit]:
        return (await SQLiteStore.search_vectors(self, user_id, target, [vector], k))[0]

    async def search_vectors(
        self, user_id: str, target: SearchTarget, vectors: Sequence[np.ndarray], k: int
    ) -> list[list[Hit]]:
        """One pass over the user's matrix for every query vector: scoring is bound by
        reading the matrix (150 MB at 100k facts), so a second vector costs almost nothing."""
        _target(target)
        queries = [vector_f32(v, where="query vector") for v in vectors]
        if k <= 0 or not queries:
            return [[] for _ in queries]
        dims = {int(v.shape[0]) for v in queries}
        if len(dims) > 1:
            raise InputError(
                f"query vectors of different dimensions {sorted(dims)} in one search",
                where="query vector",
            )
        return await self._run(self._search_vectors, user_id, target, queries, k)

    def _search_vectors(
        self, user_id: str, target: str, queries: list[np.ndarray], k: int
    ) -> list[list[Hit]]:
        self._check_cache()
        dim = int(queries[0].shape[0])
        key = (user_id, target, dim)
        index = self._cache.get(key)
        if index is None:
            records, _, vectors = q.TARGETS[target]
            rows = self._db.execute(
                f"SELECT r.id, v.vec FROM {vectors} v JOIN {records} r ON r.pk = v.pk "
                "WHERE v.user_id = ? AND v.dim = ?",
                (user_id, dim),
            ).fetchall()
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(-1, dim)
            index = VectorIndex(dim, [r[0] for r in rows], matrix)
            self._cache.put(key, index)
        return [[Hit(rid, score) for rid, score in top] for top in index.top_many(queries, k)]

    async def facts_touching(
        self, user_id: str, entity_ids: Sequence[str], exclude: Collection[str], limit: int
    ) -> list[Fact]:
        if not entity_ids or limit < 1:
            return []
        return await self._run(
            self._facts_touching, user_id, list(dict.fromkeys(entity_ids)), set(exclude), limit
        )

    def _facts_touching(
        self, user_id: str, entities: list[str], exclude: set[str], limit: int
    ) -> list[Fact]:
        # One short walk of an endpoint index per entity and side: a hub such as "self" with
        # 100k facts costs `limit` index rows, not a sort of everything it touches. The walks
        # read the index alone (it holds the order and the id); only the facts kept are read.
        start = "COALESCE(valid_at, recorded_at)"
        walks = [
            f"SELECT {start}, recorded_at, id FROM facts "
            f"WHERE user_id = ? AND {side} = ? "
            f"ORDER BY {start} DESC, recorded_at DESC, id DESC LIMIT ?"
            for side in ("subject_id", "object_id")
        ]
        found: dict[str, tuple[Any, ...]] = {}
        for entity in entities:
            for sql in walks:
                for row in self._db.execute(sql, (user_id, entity, limit + len(exclude))):
                    if row[2] not in exclude:
                        found[row[2]] = row
        newest = sorted(found.values(), key=lambda r: (-r[0], -r[1], r[2]))[:limit]
        return self._by_ids("fact", user_id, [r[2] for r in newest])

    # -- whole-store -------------------------------------------------------------------------
    async def find_jobs(
        self,
        user_id: str | None,
        statuses: Sequence[str],
        *,
        ids: Sequence[str] | None = None,
        limit: int = 10_000,
    ) -> list[ExtractionJob]:
        return await self._run(lambda: _jobs.find(self._db, user_id, statuses, ids, limit))

    async def users(self) -> list[str]:
        sql = (
            "SELECT user_id FROM episodes UNION SELECT user_id FROM entities "
            "UNION SELECT user_id FROM facts ORDER BY 1"
        )
        return await self._run(lambda: [str(row[0]) for row in self._db.execute(sql)])

    async def counts(self, user_id: str | None = None) -> dict[str, int]:
        return await self._run(self._counts, user_id)

    def _counts(self, user_id: str | None) -> dict[str, int]:
        out = {}
        for key in ("episodes", "entities", "facts"):
            if user_id is None:
                row = self._db.execute(f"SELECT count(*) FROM {key}").fetchone()
            else:
                row = self._db.execute(
                    f"SELECT count(*) FROM {key} WHERE user_id = ?", (user_id,)
                ).fetchone()
            out[key] = int(row[0])
        return out

    async def scan(
        self, user_id: str, target: SearchTarget, offset: int, limit: int, *, vectors: bool
    ) -> list[tuple[Record, np.ndarray | None]]:
        _target(target)
        return await self._run(self._scan, user_id, target, offset, limit, vectors)

    def _scan(
        self, user_id: str, target: str, offset: int, limit: int, vectors: bool
    ) -> list[tuple[Record, np.ndarray | None]]:
        records, _, vector_table = q.TARGETS[target]
        cols = ", ".join("r." + c for c in FIELDS[target])
        order = "r.occurred_at, r.id" if target == "episode" else "r.id"
        if not vectors:
            sql = f"SELECT {cols}, NULL FROM {records} r WHERE r.user_id = ?"
        else:
            sql = (
                f"SELECT {cols}, v.vec FROM {records} r LEFT JOIN {vector_table} v "
                "ON v.pk = r.pk WHERE r.user_id = ?"
            )
        rows = self._db.execute(
            f"{sql} ORDER BY {order} LIMIT ? OFFSET ?", (user_id, limit, offset)
        )
        return [
            (
                q.record_row(target, row[:-1]),
                None if row[-1] is None else np.frombuffer(row[-1], dtype="<f4"),
            )
            for row in rows
        ]

    async def export(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a user, read in one transaction: one consistent snapshot even
        while others write (the default export pages, which a server store needs)."""
        records = await self._run(self._export, user_id)
        for record, vector in records:
            yield record_to_dict(record, vector)

    def _export(self, user_id: str) -> list[tuple[Record, np.ndarray | None]]:
        self._db.execute("BEGIN")
        try:
            return [item for target in TARGETS for item in self._scan(user_id, target, 0, -1, True)]
        finally:
            self._db.execute("COMMIT")

    async def info(self) -> StoreInfo:
        return await self._run(self._info)

    def _info(self) -> StoreInfo:
        conn = self._db
        applied = applied_migrations(conn)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        fts = {fts: fts in tables for _, fts, _ in q.TARGETS.values()}
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
        problems = []
        missing = [m.name for m in MIGRATIONS if m.name not in applied]
        if missing:
            problems.append(f"migrations not applied: {', '.join(missing)}")
        problems += [f"full-text table {name} is missing" for name, ok in fts.items() if not ok]
        if journal != "wal":
            problems.append(f"journal_mode is {journal}, expected wal")
        details: dict[str, Any] = {
            "path": str(self.path),
            "sqlite_version": sqlite3.sqlite_version,
            "schema_version": conn.execute("PRAGMA user_version").fetchone()[0],
            "migrations": applied,
            "journal_mode": journal,
            "fts": fts,
            "counts": self._counts(None),
            "users": conn.execute(
                "SELECT count(*) FROM (SELECT user_id FROM episodes UNION "
                "SELECT user_id FROM entities UNION SELECT user_id FROM facts)"
            ).fetchone()[0],
            "bytes": self.path.stat().st_size if self.path.exists() else 0,
        }
        return StoreInfo(
            url=self.url,
            backend="sqlite",
            ok=not problems,
            details=details,
            problems=tuple(problems),
        )
