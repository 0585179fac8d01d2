"""Thread state kept with the user's memory: LangGraph checkpoints in the user's store.

A thread has the memory's lifecycle: the store's ``forget_user`` deletes the user's
checkpoints in the same operation as the user's facts (threads are ``user|session``, see
:func:`thread_owner`). Where they live (:func:`open_threads`):

- **a graph server** (FalkorDB, Neo4j; any store that is a
  :class:`~memlane.memory_graph.stores.threads.ThreadStore`): :class:`StoreCheckpointSaver`,
  LangGraph's :class:`BaseCheckpointSaver` over the store's own primitives, so every replica
  over the server sees the same threads and a session may move between them;
- **the SQLite store's own file**: LangGraph's :class:`AsyncSqliteSaver` opened on it, and the
  byte-level hygiene of that file (``secure_delete``, the WAL truncated after a forget) covers
  the transcripts too;
- ``Settings.checkpoint_db`` (or a store that keeps no threads): a SQLite file of their own,
  opened with the same discipline.

Both savers prune: every super-step of every turn writes a full checkpoint and only the
newest is read again (resuming reads the latest), so a thread keeps ``keep_checkpoints``.

Two things the stock SQLite saver does not do, added here:

- **busy waits and retries.** Another process (``memlane serve`` beside a ``memlane chat``)
  may hold the file's write lock. Each connection waits (``busy_timeout``) and a write that
  still meets a lock is rolled back and retried a bounded number of times, so a turn whose
  memory write landed is not reported as failed because its checkpoint met a lock.
- **pruning.** Every super-step of every turn writes a full checkpoint; only the newest few
  of a thread are ever read again (resuming reads the latest), so older ones are deleted
  as each new one is written and a thread's size stays bounded by its history.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
    writes_sort_key,
)
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from platformdirs import user_data_dir

from memlane.memory_graph.ids import THREAD_SEPARATOR, check_id, check_user_id
from memlane.memory_graph.stores import GraphStore
from memlane.memory_graph.stores.sqlite import SQLiteStore
from memlane.memory_graph.stores.threads import (
    CheckpointRow,
    StoredCheckpoint,
    ThreadStore,
    WriteRow,
)

__all__ = [
    "BUSY_TIMEOUT_MS",
    "StoreCheckpointSaver",
    "StoreSqliteSaver",
    "forget_threads",
    "forget_threads_beside",
    "open_thread_saver",
    "open_threads",
    "thread_id",
    "thread_owner",
    "thread_owner_prefix",
    "threads_file",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_TIMEOUT_MS = 10_000
"""How long a connection waits for another's write lock before a write is retried."""
_RETRIES = 3
_PRAGMAS = (
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous = NORMAL",
    # Freed pages are zeroed: a pruned or forgotten checkpoint leaves no text in the file.
    "PRAGMA secure_delete = ON",
)


def thread_id(user_id: str, session_id: str | None) -> str:
    """The LangGraph thread of a user's session: ``user|session`` (``default`` without one).

    ``|`` is in neither the user id nor the session id alphabet, so the owner of a thread is
    unambiguous even though ids may contain ``/``.
    """
    check_user_id(user_id)
    session = check_id(session_id, "session_id") if session_id is not None else "default"
    return f"{user_id}{THREAD_SEPARATOR}{session}"


def thread_owner_prefix(user_id: str) -> str:
    """What every thread id of ``user_id`` starts with (and no other user's does)."""
    return f"{check_user_id(user_id)}{THREAD_SEPARATOR}"


def thread_owner(thread: str) -> str | None:
    """The user a thread id ``user|session`` belongs to (None for a thread id of another
    shape: a graph of the caller's own, which no ``forget`` of a user touches)."""
    user, sep, _ = thread.partition(THREAD_SEPARATOR)
    return user if sep and user else None


def threads_file(store: GraphStore, override: str | None = None) -> Path | None:
    """The SQLite file a store's threads are kept in: ``override``, else the SQLite store's
    own file; None when the store keeps them itself (a graph server); else ``threads.db`` in
    the user data directory (a store that keeps no threads)."""
    if override:
        return Path(override).expanduser()
    if isinstance(store, SQLiteStore):
        return store.path
    if isinstance(store, ThreadStore):
        return None
    return Path(user_data_dir("memlane")) / "threads.db"


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and (
        "locked" in str(exc) or "busy" in str(exc)
    )


class StoreSqliteSaver(AsyncSqliteSaver):
    """:class:`AsyncSqliteSaver` with bounded lock retries and pruning of old checkpoints.

    Args:
        conn: an open aiosqlite connection (see :func:`open_thread_saver`).
        keep_checkpoints: checkpoints kept per thread (and namespace); older ones, with their
            pending writes, are deleted when a new one is written. At least 1.
    """

    def __init__(self, conn: aiosqlite.Connection, *, keep_checkpoints: int = 2) -> None:
        super().__init__(conn)
        self.keep_checkpoints = max(1, keep_checkpoints)

    async def _retrying(self, what: str, write: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(_RETRIES + 1):
            try:
                return await write()
            except sqlite3.OperationalError as exc:
                if not _locked(exc) or attempt == _RETRIES:
                    raise
                # The statement failed inside the implicit transaction: undo it, then retry.
                await self.conn.rollback()
                log.info("thread %s met a lock (%s); retry %d", what, exc, attempt + 1)
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save a checkpoint (retried on a lock), then delete the thread's older ones."""
        put = super().aput
        saved = await self._retrying(
            "checkpoint", lambda: put(config, checkpoint, metadata, new_versions)
        )
        conf = saved["configurable"]
        await self._retrying("prune", lambda: self._prune(conf["thread_id"], conf["checkpoint_ns"]))
        return saved

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes (retried on a lock)."""
        put = super().aput_writes
        await self._retrying("writes", lambda: put(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and writes (retried on a lock)."""
        delete = super().adelete_thread
        await self._retrying("delete", lambda: delete(thread_id))

    async def _prune(self, thread: str, namespace: str) -> None:
        keep = (
            "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = ? "
            "ORDER BY checkpoint_id DESC LIMIT ?"
        )
        args = (thread, namespace, thread, namespace, self.keep_checkpoints)
        async with self.lock:
            # Checkpoint ids are time-ordered (uuid6), so the newest sort last.
            for table in ("checkpoints", "writes"):
                await self.conn.execute(
                    f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? "
                    f"AND checkpoint_id NOT IN ({keep})",
                    args,
                )
            await self.conn.commit()

    async def forget_user(self, user_id: str) -> int:
        """Delete every thread of ``user_id``; returns the checkpoints deleted.

        The SQLite store does this itself inside ``forget_user``; this is for a saver in a
        file of its own (a store that is not SQLite).
        """
        prefix = thread_owner_prefix(user_id)
        await self.setup()

        async def delete() -> int:
            async with self.lock:
                cur = await self.conn.execute(
                    "DELETE FROM checkpoints WHERE substr(thread_id, 1, ?) = ?",
                    (len(prefix), prefix),
                )
                await self.conn.execute(
                    "DELETE FROM writes WHERE substr(thread_id, 1, ?) = ?", (len(prefix), prefix)
                )
                await self.conn.commit()
                return cur.rowcount

        count = await self._retrying("forget", delete)
        await self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count


class StoreCheckpointSaver(BaseCheckpointSaver[str]):
    """LangGraph's checkpointer over a store that keeps threads itself (a graph server).

    The store holds the rows (:class:`~memlane.memory_graph.stores.threads.ThreadStore`);
    this class is LangGraph's side: serialising with the saver's ``serde``, configs, pending
    writes in :func:`writes_sort_key` order. Every process over the same server shares the
    threads. Asynchronous only (the agent runs its graphs with ``ainvoke``).

    Args:
        store: the store (opened by the caller).
        keep_checkpoints: checkpoints kept per thread (and namespace); older ones, with
            their pending writes, are deleted as each new one is stored. At least 1.
    """

    def __init__(self, store: ThreadStore, *, keep_checkpoints: int = 2) -> None:
        super().__init__()
        self.store = store
        self.keep_checkpoints = max(1, keep_checkpoints)

    def _tuple(self, stored: StoredCheckpoint) -> CheckpointTuple:
        row = stored.row
        where = {"thread_id": row.thread_id, "checkpoint_ns": row.namespace}
        writes = sorted(stored.writes, key=lambda w: writes_sort_key(w.task_path, w.task_id, w.idx))
        return CheckpointTuple(
            config={"configurable": {**where, "checkpoint_id": row.checkpoint_id}},
            checkpoint=self.serde.loads_typed((row.type, row.checkpoint)),
            metadata=json.loads(row.metadata) if row.metadata else {},
            parent_config=(
                {"configurable": {**where, "checkpoint_id": row.parent_id}}
                if row.parent_id
                else None
            ),
            pending_writes=[
                (w.task_id, w.channel, self.serde.loads_typed((w.type, w.value))) for w in writes
            ],
        )

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint the config names, or the thread's newest."""
        conf = config["configurable"]
        stored = await self.store.get_checkpoint(
            str(conf["thread_id"]), conf.get("checkpoint_ns", ""), get_checkpoint_id(config)
        )
        return self._tuple(stored) if stored is not None else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first (of the config's thread, or of every thread), whose
        metadata holds every key and value of ``filter``."""
        conf = config["configurable"] if config is not None else {}
        thread = conf.get("thread_id")
        rows = await self.store.list_checkpoints(
            None if thread is None else str(thread),
            conf.get("checkpoint_ns"),
            checkpoint_id=conf.get("checkpoint_id"),
            before=get_checkpoint_id(before) if before is not None else None,
            limit=None if filter else limit,
        )
        given = 0
        for stored in rows:
            found = self._tuple(stored)
            meta = cast(dict[str, Any], found.metadata)
            if filter and any(meta.get(k) != v for k, v in filter.items()):
                continue
            if limit is not None and given >= limit:
                return
            given += 1
            yield found

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint; the store deletes the thread's older ones beyond the kept."""
        conf = config["configurable"]
        thread, namespace = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        type_, blob = self.serde.dumps_typed(checkpoint)
        meta = json.dumps(get_checkpoint_metadata(config, metadata), ensure_ascii=False)
        row = CheckpointRow(
            thread_id=thread,
            namespace=namespace,
            checkpoint_id=checkpoint["id"],
            parent_id=conf.get("checkpoint_id"),
            type=type_,
            checkpoint=blob,
            metadata=meta.encode("utf-8", "ignore"),
        )
        await self.store.put_checkpoint(thread_owner(thread), row, keep=self.keep_checkpoints)
        return {
            "configurable": {
                "thread_id": thread,
                "checkpoint_ns": namespace,
                "checkpoint_id": checkpoint["id"],
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes (special ones replace, others keep the first)."""
        conf = config["configurable"]
        thread = str(conf["thread_id"])
        rows = [
            WriteRow(task_id, task_path, WRITES_IDX_MAP.get(channel, idx), channel, *dumped)
            for idx, (channel, value) in enumerate(writes)
            for dumped in [self.serde.dumps_typed(value)]
        ]
        await self.store.put_checkpoint_writes(
            thread_owner(thread),
            thread,
            str(conf.get("checkpoint_ns", "")),
            str(conf["checkpoint_id"]),
            rows,
            replace=all(w[0] in WRITES_IDX_MAP for w in writes),
        )

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and writes."""
        await self.store.delete_thread(str(thread_id))

    def get_next_version(self, current: str | int | float | None, channel: None) -> str:
        """Monotonic channel versions as LangGraph's SQLite and Postgres savers write them
        (``<counter>.<random>``), so a thread reads the same whichever saver wrote it."""
        if current is None:
            counter = 0
        elif isinstance(current, (int, float)):
            counter = int(current)
        else:
            counter = int(current.split(".")[0])
        return f"{counter + 1:032}.{random.random():016}"


async def open_threads(
    store: GraphStore, override: str | None = None, *, keep_checkpoints: int = 2
) -> tuple[BaseCheckpointSaver[Any], aiosqlite.Connection | None]:
    """The checkpointer of ``store``'s chat threads (see the module docstring for where).

    Returns:
        the saver and the SQLite connection the caller closes (None for a store's own saver).
    """
    path = threads_file(store, override)
    if path is not None:
        return await open_thread_saver(path, keep_checkpoints=keep_checkpoints)
    # None: the store keeps threads itself (``threads_file``).
    return StoreCheckpointSaver(cast(ThreadStore, store), keep_checkpoints=keep_checkpoints), None


async def open_thread_saver(
    path: str | Path, *, keep_checkpoints: int = 2
) -> tuple[StoreSqliteSaver, aiosqlite.Connection]:
    """A :class:`StoreSqliteSaver` on the SQLite file ``path`` (its tables made if missing).

    Args:
        path: the store's database file, or a file of the threads' own.
        keep_checkpoints: checkpoints kept per thread.

    Returns:
        the saver and its connection (the caller closes the connection).
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Autocommit: each statement is its own transaction inside SQLite's thread. With Python's
    # implicit transactions the saver's INSERT took the file's write lock and released it
    # only at the commit one await later, so a busy event loop (an embedding, a burst of
    # requests) held every other process's writes for as long as it was busy.
    conn = await aiosqlite.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        saver = StoreSqliteSaver(conn, keep_checkpoints=keep_checkpoints)
        await saver.setup()
    except BaseException:
        await conn.close()
        raise
    return saver, conn


async def forget_threads(saver: BaseCheckpointSaver[Any], user_id: str) -> int:
    """Delete every thread of ``user_id`` from any LangGraph checkpointer.

    Returns:
        checkpoints (our SQLite saver) or threads (any other saver) deleted.
    """
    if isinstance(saver, StoreSqliteSaver):
        return await saver.forget_user(user_id)
    if isinstance(saver, StoreCheckpointSaver):
        return 0  # the store's forget_user deleted them with the memory
    prefix = thread_owner_prefix(user_id)
    threads = {
        t.config["configurable"]["thread_id"]
        async for t in saver.alist(None)
        if str(t.config["configurable"].get("thread_id", "")).startswith(prefix)
    }
    for thread in threads:
        await saver.adelete_thread(thread)
    return len(threads)


async def forget_threads_beside(store: GraphStore, override: str | None, user_id: str) -> int:
    """Delete ``user_id``'s threads kept outside the store (``Settings.checkpoint_db``, or
    the data directory's file of a store that keeps none); the store's ``forget_user``
    deletes those it keeps itself (the SQLite store's file, a graph server's).

    Returns:
        the checkpoints deleted (0 when there is no such file).
    """
    path = threads_file(store, override)
    if path is None or (isinstance(store, SQLiteStore) and path == store.path):
        return 0
    if not path.exists():
        return 0
    saver, conn = await open_thread_saver(path)
    try:
        return await saver.forget_user(user_id)
    finally:
        await conn.close()
