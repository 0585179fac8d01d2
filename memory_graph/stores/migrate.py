"""Copy every user, with full history and vectors, from one store to another.

The copy goes through the export/import record format (:mod:`memlane.memory_graph.io`), so any
backend can be the source or the target. Each user's records are applied in export order
(episodes, entities, facts) in batches; the target must not hold any of the copied users
yet, so a copy never merges into (or overwrites) someone's memory. Counts are verified per
user at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memlane.memory_graph.errors import ConflictError, StoreError
from memlane.memory_graph.io import dict_to_writes
from memlane.memory_graph.stores.base import GraphStore

__all__ = ["CopyReport", "copy_store"]

log = logging.getLogger(__name__)

DEFAULT_BATCH = 500


@dataclass
class CopyReport:
    """What :func:`copy_store` copied, per user and in total."""

    users: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        out = {"users": len(self.users), "episodes": 0, "entities": 0, "facts": 0}
        for counts in self.users.values():
            for key in ("episodes", "entities", "facts"):
                out[key] += counts[key]
        return out


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
    return report


async def _flush(target: GraphStore, pending: list[dict[str, Any]]) -> int:
    if not pending:
        return 0
    n = len(pending)
    for writes in dict_to_writes(pending, where_fmt="exported record {n}"):
        await target.apply(writes)
    pending.clear()
    return n
