"""Thread state kept with the user's memory: LangGraph checkpoints in the store's own file.

The chat loop's checkpointer is LangGraph's :class:`AsyncSqliteSaver`, opened on the SQLite
store's database file, so a thread has the memory's lifecycle: the store's ``forget_user``
deletes the user's checkpoints in the same transaction as the user's facts (see
:func:`thread_owner_prefix`), and the byte-level hygiene of that file (``secure_delete``, the
WAL truncated after a forget) covers the transcripts too. A store that is not SQLite keeps its
threads in a SQLite file of their own (``Settings.checkpoint_db`` or the user data directory),
opened with the same discipline.

Two things the stock saver does not do, added here:

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
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
)
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from platformdirs import user_data_dir

from memlane.memory_graph.ids import THREAD_SEPARATOR, check_id, check_user_id
from memlane.memory_graph.stores import GraphStore
from memlane.memory_graph.stores.sqlite import SQLiteStore

__all__ = [
    "BUSY_TIMEOUT_MS",
    "StoreSqliteSaver",
    "forget_threads",
    "forget_threads_beside",
    "open_thread_saver",
    "thread_id",
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


def threads_file(store: GraphStore, override: str | None = None) -> Path:
    """Where a store's threads are kept: the SQLite store's own file, else ``override`` or
    ``threads.db`` in the user data directory (a graph server's threads are per machine)."""
    if override:
        return Path(override).expanduser()
    if isinstance(store, SQLiteStore):
        return store.path
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
        checkpoints (our saver) or threads (any other saver) deleted.
    """
    if isinstance(saver, StoreSqliteSaver):
        return await saver.forget_user(user_id)
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
    """Delete ``user_id``'s threads kept outside the store's own file (a graph server's, or
    ``Settings.checkpoint_db``); the SQLite store's ``forget_user`` deletes those in its file.

    Returns:
        the checkpoints deleted (0 when there is no such file).
    """
    path = threads_file(store, override)
    if (isinstance(store, SQLiteStore) and path == store.path) or not path.exists():
        return 0
    saver, conn = await open_thread_saver(path)
    try:
        return await saver.forget_user(user_id)
    finally:
        await conn.close()
