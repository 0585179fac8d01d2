"""Copy every user, with full history and vectors, and their chat threads, between stores.

The copy goes through the export/import record format (:mod:`memlane.memory_graph.io`), so any
backend can be the source or the target. Each user's records are applied in export order
(episodes, entities, facts) in batches; the target must not hold any of the copied users
yet, so a copy never merges into (or overwrites) someone's memory. Counts are verified per
user at the end.

Chat threads (LangGraph checkpoints with their pending writes) go through the stores' own
thread operations (:class:`~memlane.memory_graph.stores.threads.ThreadStore`, which every
memlane store implements): the copied users' threads (every thread, a thread id of no user's
included, when every user is copied), read a page at a time, each checkpoint kept as it is
(no pruning), and verified per thread.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from memlane.memory_graph.errors import ConflictError, StoreError
from memlane.memory_graph.ids import thread_owner
from memlane.memory_graph.io import dict_to_writes
from memlane.memory_graph.stores.base import GraphStore
from memlane.memory_graph.stores.threads import StoredCheckpoint, ThreadStore

__all__ = ["CopyReport", "copy_store"]

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500
# Checkpoints a copied thread keeps in the target: all of them (the agent prunes it again
# on its next turn). Within Cypher's LIMIT, which takes no null.
_KEEP_ALL = 2**31 - 1


@dataclass
class CopyReport:
    """What :func:`copy_store` copied, per user and in total."""

    users: dict[str, dict[str, int]] = field(default_factory=dict)
    threads: int = 0
    checkpoints: int = 0

    @property
    def totals(self) -> dict[str, int]:
        out = {"users": len(self.users), "episodes": 0, "entities": 0, "facts": 0}
        for counts in self.users.values():
            for key in ("episodes", "entities", "facts"):
                out[key] += counts[key]
        return {**out, "threads": self.threads, "checkpoints": self.checkpoints}


async def copy_store(
    source: GraphStore,
    target: GraphStore,
    *,
    users: list[str] | None = None,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] | None = None,
) -> CopyReport:
    """Copy users (all by default) from ``source`` to ``target``, both opened.

    Args:
        source: the store to read.
        target: the store to write; must hold none of the copied users.
        users: only these users (default: every user of ``source``).
        batch: records per atomic write.
        progress: called with one line of text per batch and per user.

    Raises:
        ConflictError: the target already holds one of the users.
        StoreError: the counts in the target differ from the source's after the copy.
    """
    say = progress or (lambda _line: None)
    wanted = users if users is not None else await source.users()
    for user_id in wanted:
        existing = await target.counts(user_id)
        if any(existing.values()):
            raise ConflictError(
                f"the target already holds user {user_id!r} ({existing}); "
                "copy into an empty store or forget the user there first",
                where=target.url,
            )
    report = CopyReport()
    for n, user_id in enumerate(wanted, start=1):
        expected = await source.counts(user_id)
        pending: list[dict[str, Any]] = []
        done = 0
        total = sum(expected.values())
        async for record in source.export(user_id):
            pending.append(record)
            if len(pending) >= batch:
                done += await _flush(target, pending)
                say(f"user {n}/{len(wanted)} {user_id}: {done}/{total} records")
        done += await _flush(target, pending)
        copied = await target.counts(user_id)
        if copied != expected:
            raise StoreError(
                f"user {user_id!r}: source has {expected}, target has {copied} after the copy",
                where=target.url,
            )
        report.users[user_id] = copied
        say(f"user {n}/{len(wanted)} {user_id}: {done}/{total} records, counts verified")
    if isinstance(source, ThreadStore) and isinstance(target, ThreadStore):
        owners = None if users is None else set(wanted)
        copy = _copy_threads(source, target, owners, batch, where=target.url)
        report.threads, report.checkpoints = await copy
        say(f"{report.threads} threads: {report.checkpoints} checkpoints, verified")
    return report


async def _checkpoints(store: ThreadStore, batch: int) -> AsyncIterator[list[StoredCheckpoint]]:
    """Every checkpoint of ``store``, newest first, ``batch`` or so at a time. Checkpoint
    ids are not unique across threads: a page ends before its last id, and every checkpoint
    of that id comes with the next."""
    before: str | None = None
    while True:
        page = await store.list_checkpoints(None, None, before=before, limit=batch)
        if not page:
            return
        last = page[-1].row.checkpoint_id
        if len(page) == batch:
            page = [c for c in page if c.row.checkpoint_id != last]
            page += await store.list_checkpoints(None, None, checkpoint_id=last)
        yield page
        before = last


async def _copy_threads(
    source: ThreadStore, target: ThreadStore, owners: set[str] | None, batch: int, *, where: str
) -> tuple[int, int]:
    """Copy the threads of ``owners`` (every thread when None); returns (threads,
    checkpoints) copied."""
    copied: dict[str, set[tuple[str, str]]] = {}
    async for page in _checkpoints(source, batch):
        for stored in page:
            row = stored.row
            owner = thread_owner(row.thread_id)
            if owners is not None and owner not in owners:
                continue
            await target.put_checkpoint(owner, row, keep=_KEEP_ALL)
            if stored.writes:
                await target.put_checkpoint_writes(
                    owner,
                    row.thread_id,
                    row.namespace,
                    row.checkpoint_id,
                    stored.writes,
                    replace=True,
                )
            copied.setdefault(row.thread_id, set()).add((row.namespace, row.checkpoint_id))
    for thread, expected in copied.items():
        there = {
            (c.row.namespace, c.row.checkpoint_id)
            for c in await target.list_checkpoints(thread, None)
        }
        if not expected <= there:
            raise StoreError(
                f"thread {thread!r}: {len(expected - there)} of its checkpoints are missing "
                "in the target after the copy",
                where=where,
            )
    return len(copied), sum(len(ids) for ids in copied.values())


async def _flush(target: GraphStore, pending: list[dict[str, Any]]) -> int:
    if not pending:
        return 0
    n = len(pending)
    for writes in dict_to_writes(pending, where_fmt="exported record {n}"):
        await target.apply(writes)
    pending.clear()
    return n
