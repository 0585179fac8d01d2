"""Chat threads' checkpoints in the SQLite store's file (:class:`~..threads.ThreadStore`).

Two tables (migration ``0012_thread_state``): ``thread_checkpoints`` and ``thread_writes``,
each row with its owner's user id (what ``forget_user`` deletes by, in the same transaction
as the memory: :func:`forget`). Writes go through the store's one database thread and its
``BEGIN IMMEDIATE`` transactions like every other write (so they wait for another process's
write lock with the store's ``busy_timeout``); a read of checkpoints and their writes is one
read transaction, so a prune by another process never splits them. Freed pages are zeroed
(the store's ``secure_delete``): a pruned checkpoint leaves no text in the file.
"""

from __future__ import annotations

import sqlite3
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from memlane.memory_graph.ids import THREAD_SEPARATOR
from memlane.memory_graph.stores.threads import (
    CheckpointRow,
    StoredCheckpoint,
    ThreadStore,
    WriteRow,
)

__all__ = ["CREATE", "SQLiteThreads", "adopt_langgraph_tables", "forget"]

T = TypeVar("T")

CREATE = (
    # Rowid tables (not WITHOUT ROWID): a checkpoint is a blob of kilobytes.
    """
    CREATE TABLE thread_checkpoints (
        thread_id TEXT NOT NULL,
        ns TEXT NOT NULL,
        id TEXT NOT NULL,
        user_id TEXT,
        parent_id TEXT,
        type TEXT NOT NULL,
        checkpoint BLOB NOT NULL,
        metadata BLOB NOT NULL,
        PRIMARY KEY (thread_id, ns, id)
    )
    """,
    "CREATE INDEX thread_checkpoints_by_user ON thread_checkpoints (user_id)",
    """
    CREATE TABLE thread_writes (
        thread_id TEXT NOT NULL,
        ns TEXT NOT NULL,
        checkpoint_id TEXT NOT NULL,
        task_id TEXT NOT NULL,
        idx INTEGER NOT NULL,
        user_id TEXT,
        task_path TEXT NOT NULL,
        channel TEXT NOT NULL,
        type TEXT NOT NULL,
        value BLOB NOT NULL,
        PRIMARY KEY (thread_id, ns, checkpoint_id, task_id, idx)
    )
    """,
    "CREATE INDEX thread_writes_by_user ON thread_writes (user_id)",
)

_PUT = (
    "INSERT INTO thread_checkpoints "
    "(thread_id, ns, id, user_id, parent_id, type, checkpoint, metadata) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, ns, id) DO UPDATE SET "
    "user_id = excluded.user_id, parent_id = excluded.parent_id, type = excluded.type, "
    "checkpoint = excluded.checkpoint, metadata = excluded.metadata"
)
# The newest ``keep`` of a (thread, namespace): checkpoint ids sort by time (uuid6).
_KEPT = "SELECT id FROM thread_checkpoints WHERE thread_id = ? AND ns = ? ORDER BY id DESC LIMIT ?"
_PRUNE = (
    f"DELETE FROM thread_checkpoints WHERE thread_id = ? AND ns = ? AND id NOT IN ({_KEPT})",
    # Writes of every checkpoint not kept, also of one never stored (as the Cypher stores).
    f"DELETE FROM thread_writes WHERE thread_id = ? AND ns = ? AND checkpoint_id NOT IN ({_KEPT})",
)
_WRITE_COLS = "thread_id, ns, checkpoint_id, task_id, idx, user_id, task_path, channel, type, value"
# LangGraph replaces its special writes (errors, interrupts) and keeps the first of others.
_PUT_WRITE = {
    replace: f"INSERT OR {verb} INTO thread_writes ({_WRITE_COLS}) VALUES ({', '.join('?' * 10)})"
    for replace, verb in ((True, "REPLACE"), (False, "IGNORE"))
}
_SELECT = "SELECT thread_id, ns, id, parent_id, type, checkpoint, metadata FROM thread_checkpoints"
_WRITES_OF = (
    "SELECT task_id, task_path, idx, channel, type, value FROM thread_writes "
    "WHERE thread_id = ? AND ns = ? AND checkpoint_id = ?"
)


def _put(conn: sqlite3.Connection, owner: str | None, row: CheckpointRow, keep: int) -> None:
    conn.execute(
        _PUT,
        (
            row.thread_id,
            row.namespace,
            row.checkpoint_id,
            owner,
            row.parent_id,
            row.type,
            row.checkpoint,
            row.metadata,
        ),
    )
    where = (row.thread_id, row.namespace)
    for sql in _PRUNE:
        conn.execute(sql, (*where, *where, max(1, int(keep))))


def _put_writes(conn: sqlite3.Connection, rows: list[tuple[Any, ...]], replace: bool) -> None:
    # Returns nothing: a cursor handed back to the event loop would reset its (cached)
    # statement from that thread when collected, while the database thread may be running it.
    conn.executemany(_PUT_WRITE[replace], rows)


def _list(
    conn: sqlite3.Connection,
    thread_id: str | None,
    namespace: str | None,
    checkpoint_id: str | None,
    before: str | None,
    limit: int | None,
) -> list[StoredCheckpoint]:
    where: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("thread_id = ?", thread_id),
        ("ns = ?", namespace),
        ("id = ?", checkpoint_id),
        ("id < ?", before),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = (
        f"{_SELECT}{' WHERE ' + ' AND '.join(where) if where else ''} "
        "ORDER BY id DESC, thread_id, ns LIMIT ?"
    )
    # One read transaction: the checkpoints and their writes are one snapshot.
    conn.execute("BEGIN")
    try:
        rows = conn.execute(sql, [*params, -1 if limit is None else max(0, int(limit))]).fetchall()
        return [
            StoredCheckpoint(
                CheckpointRow(*row),
                tuple(WriteRow(*w) for w in conn.execute(_WRITES_OF, row[:3])),
            )
            for row in rows
        ]
    finally:
        conn.execute("COMMIT")


def _delete_thread(conn: sqlite3.Connection, thread_id: str) -> int:
    conn.execute("DELETE FROM thread_writes WHERE thread_id = ?", (thread_id,))
    return conn.execute("DELETE FROM thread_checkpoints WHERE thread_id = ?", (thread_id,)).rowcount


def forget(conn: sqlite3.Connection, user_id: str) -> tuple[int, int]:
    """Delete every checkpoint and write ``user_id`` owns (inside the caller's transaction);
    returns the checkpoints and the writes deleted."""
    writes = conn.execute("DELETE FROM thread_writes WHERE user_id = ?", (user_id,)).rowcount
    checkpoints = conn.execute("DELETE FROM thread_checkpoints WHERE user_id = ?", (user_id,))
    return checkpoints.rowcount, writes


class SQLiteThreads(ThreadStore):
    """The thread-state primitives of :class:`~.store.SQLiteStore`, over its plumbing."""

    @abstractmethod
    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the store's database thread."""

    @abstractmethod
    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """``fn(conn)`` in one IMMEDIATE transaction (on the database thread)."""

    @property
    @abstractmethod
    def _db(self) -> sqlite3.Connection:
        """The store's connection (on the database thread only)."""

    async def put_checkpoint(self, owner: str | None, row: CheckpointRow, *, keep: int) -> None:
        await self._run(self._write, lambda conn: _put(conn, owner, row, keep))

    async def put_checkpoint_writes(
        self,
        owner: str | None,
        thread_id: str,
        namespace: str,
        checkpoint_id: str,
        writes: Sequence[WriteRow],
        *,
        replace: bool,
    ) -> None:
        if not writes:
            return
        rows = [
            (
                thread_id,
                namespace,
                checkpoint_id,
                w.task_id,
                w.idx,
                owner,
                w.task_path,
                w.channel,
                w.type,
                w.value,
            )
            for w in writes
        ]
        await self._run(self._write, lambda conn: _put_writes(conn, rows, replace))

    async def list_checkpoints(
        self,
        thread_id: str | None,
        namespace: str | None,
        *,
        checkpoint_id: str | None = None,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[StoredCheckpoint]:
        return await self._run(
            lambda: _list(self._db, thread_id, namespace, checkpoint_id, before, limit)
        )

    async def delete_thread(self, thread_id: str) -> int:
        return await self._run(self._write, lambda conn: _delete_thread(conn, thread_id))


# -- threads LangGraph's SQLite saver kept in the file (memlane before 0012) -----------------

_LANGGRAPH_COLUMNS = {
    "checkpoints": {"thread_id", "checkpoint_ns", "checkpoint_id", "parent_checkpoint_id"},
    "writes": {"thread_id", "checkpoint_ns", "checkpoint_id", "task_id", "idx", "channel"},
}
# The owner of a thread id ``user|session`` (``memory_graph.ids.THREAD_SEPARATOR``), else NULL.
_SEP = f"instr(thread_id, '{THREAD_SEPARATOR}')"
_OWNER = f"CASE WHEN {_SEP} > 1 THEN substr(thread_id, 1, {_SEP} - 1) END"


def adopt_langgraph_tables(conn: sqlite3.Connection) -> None:
    """Move the threads LangGraph's ``AsyncSqliteSaver`` kept in this file (its ``checkpoints``
    and ``writes`` tables, same serialisation) into the store's tables, then drop its tables:
    a file written before 0012 resumes its sessions, and ``forget_user`` finds every thread."""
    columns = {
        table: {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        for table in _LANGGRAPH_COLUMNS
    }
    if not all(need <= columns[table] for table, need in _LANGGRAPH_COLUMNS.items()):
        return  # not LangGraph's tables (or none): nothing of ours to move
    conn.execute(
        "INSERT OR IGNORE INTO thread_checkpoints "
        "(thread_id, ns, id, user_id, parent_id, type, checkpoint, metadata) "
        f"SELECT thread_id, checkpoint_ns, checkpoint_id, {_OWNER}, parent_checkpoint_id, "
        "COALESCE(type, 'null'), COALESCE(checkpoint, x''), COALESCE(metadata, x'') "
        "FROM checkpoints"
    )
    task_path = "task_path" if "task_path" in columns["writes"] else "''"
    conn.execute(
        f"INSERT OR IGNORE INTO thread_writes ({_WRITE_COLS}) "
        f"SELECT thread_id, checkpoint_ns, checkpoint_id, task_id, idx, {_OWNER}, {task_path}, "
        "channel, COALESCE(type, 'null'), COALESCE(value, x'') FROM writes"
    )
    # secure_delete is on: the dropped tables' pages are zeroed, not left holding the text.
    conn.execute("DROP TABLE writes")
    conn.execute("DROP TABLE checkpoints")
