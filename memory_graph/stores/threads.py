"""Thread state in the store: chat threads' LangGraph checkpoints, kept with the memory.

Every memlane store implements :class:`ThreadStore` (the Cypher stores in
``cypher/threads.py``, SQLite in ``sqlite/_threads.py``) and keeps the checkpoints of the
agent's threads (``memlane.agent.threads`` turns LangGraph's checkpointer calls into these
rows) in the same database as the user's memory, so every process over that database
(replicas behind a load balancer) sees the same threads, ``forget_user`` deletes them with
the facts, and ``memlane migrate`` copies them (``stores.migrate``).

Rows are opaque here: the checkpointer serialises (LangGraph's serde), the store only keeps
bytes. Thread ids are the agent's ``user|session`` (``memory_graph.ids.THREAD_SEPARATOR``);
each row also records its owner's user id (None for a thread id of another shape), which is
what ``forget_user`` deletes by.

Rules every implementation keeps (``tests/contract/test_threads.py``):

* a checkpoint is keyed by (thread, namespace, checkpoint id); ids sort by time (LangGraph's
  uuid6), so the newest is the greatest;
* :meth:`ThreadStore.put_checkpoint` keeps only the newest ``keep`` checkpoints of the
  (thread, namespace), and the pending writes of those only, in the same atomic write;
* pending writes are keyed by (thread, namespace, checkpoint id, task id, index): without
  ``replace`` an existing one is left as it is;
* ``forget_user`` deletes every checkpoint and write the user owns, in the same atomic
  operation as the user's memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CheckpointRow", "StoredCheckpoint", "ThreadStore", "WriteRow"]


@dataclass(frozen=True)
class CheckpointRow:
    """One serialised checkpoint of a thread."""

    thread_id: str
    namespace: str
    checkpoint_id: str
    parent_id: str | None
    type: str
    checkpoint: bytes
    metadata: bytes


@dataclass(frozen=True)
class WriteRow:
    """One serialised pending write of a task, attached to a checkpoint."""

    task_id: str
    task_path: str
    idx: int
    channel: str
    type: str
    value: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint with its pending writes (in no particular order)."""

    row: CheckpointRow
    writes: tuple[WriteRow, ...]


class ThreadStore(ABC):
    """The thread-state primitives of a store that keeps chat threads itself."""

    @abstractmethod
    async def put_checkpoint(self, owner: str | None, row: CheckpointRow, *, keep: int) -> None:
        """Store (or replace) a checkpoint and delete the (thread, namespace)'s older ones
        beyond the newest ``keep`` (at least 1), with their pending writes, atomically."""

    @abstractmethod
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
        """Store pending writes of a checkpoint; an existing one is replaced only if
        ``replace`` (LangGraph replaces its special writes, errors and interrupts, and keeps
        the first of the others)."""

    async def get_checkpoint(
        self, thread_id: str, namespace: str, checkpoint_id: str | None
    ) -> StoredCheckpoint | None:
        """The checkpoint ``checkpoint_id`` of the thread, or its newest when None (the first
        of :meth:`list_checkpoints`, which lists newest first)."""
        found = await self.list_checkpoints(
            thread_id, namespace, checkpoint_id=checkpoint_id, limit=1
        )
        return found[0] if found else None

    @abstractmethod
    async def list_checkpoints(
        self,
        thread_id: str | None,
        namespace: str | None,
        *,
        checkpoint_id: str | None = None,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[StoredCheckpoint]:
        """Checkpoints newest first: of one thread (or every thread), one namespace (or
        all), with ids below ``before``, at most ``limit``."""

    @abstractmethod
    async def delete_thread(self, thread_id: str) -> int:
        """Delete a thread's checkpoints and writes; returns the checkpoints deleted."""
