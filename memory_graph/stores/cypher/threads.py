"""Chat threads' checkpoints on a Cypher server (:class:`~..threads.ThreadStore`), written once.

The statements are in :mod:`.queries` (``checkpoint_*``) and the same on FalkorDB and Neo4j;
blobs travel and rest as base64 text, since FalkorDB's protocol has no bytes. Each call is
one statement: atomic on both servers.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from memlane.memory_graph.stores.cypher.queries import Queries
from memlane.memory_graph.stores.cypher.session import CypherSession
from memlane.memory_graph.stores.threads import (
    CheckpointRow,
    StoredCheckpoint,
    ThreadStore,
    WriteRow,
)

__all__ = ["CypherThreads"]

# "No limit" for the list statement: Cypher's LIMIT takes no null, and FalkorDB returns no
# row at all for a LIMIT past 32 bits (measured).
_ALL = 2**31 - 1


def _text(blob: bytes) -> str:
    return base64.b64encode(blob).decode("ascii")


def _bytes(text: str | None) -> bytes:
    return base64.b64decode(text) if text else b""


def _stored(row: dict[str, Any]) -> StoredCheckpoint:
    checkpoint = CheckpointRow(
        thread_id=row["thread_id"],
        namespace=row["ns"],
        checkpoint_id=row["id"],
        parent_id=row["parent_id"],
        type=row["type"],
        checkpoint=_bytes(row["blob"]),
        metadata=_bytes(row["metadata"]),
    )
    writes = tuple(
        WriteRow(task_id, task_path or "", int(idx), channel, type_, _bytes(blob))
        for task_id, task_path, idx, channel, type_, blob in row["writes"] or []
        if task_id is not None  # OPTIONAL MATCH found none: one row of nulls
    )
    return StoredCheckpoint(checkpoint, writes)


class CypherThreads(ThreadStore):
    """The thread-state primitives of :class:`~.store.CypherStore`."""

    session: CypherSession
    q: Queries

    async def put_checkpoint(self, owner: str | None, row: CheckpointRow, *, keep: int) -> None:
        await self.session.write(
            self.q.checkpoint_put,
            {
                "user_id": owner,
                "thread_id": row.thread_id,
                "ns": row.namespace,
                "id": row.checkpoint_id,
                "parent_id": row.parent_id,
                "type": row.type,
                "blob": _text(row.checkpoint),
                "metadata": _text(row.metadata),
                "keep": max(1, int(keep)),
            },
        )

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
            {
                "task_id": w.task_id,
                "task_path": w.task_path,
                "idx": w.idx,
                "channel": w.channel,
                "type": w.type,
                "blob": _text(w.value),
            }
            for w in writes
        ]
        statement = self.q.checkpoint_writes_replace if replace else self.q.checkpoint_writes_keep
        params = {
            "user_id": owner,
            "thread_id": thread_id,
            "ns": namespace,
            "checkpoint_id": checkpoint_id,
            "rows": rows,
        }
        await self.session.write(statement, params)

    async def list_checkpoints(
        self,
        thread_id: str | None,
        namespace: str | None,
        *,
        checkpoint_id: str | None = None,
        before: str | None = None,
        limit: int | None = None,
    ) -> list[StoredCheckpoint]:
        params = {
            "thread_id": thread_id,
            "ns": namespace,
            "id": checkpoint_id,
            "before": before,
            "limit": _ALL if limit is None else max(0, int(limit)),
        }
        rows = await self.session.read(self.q.checkpoint_list[thread_id is not None], params)
        return [_stored(r) for r in rows]

    async def delete_thread(self, thread_id: str) -> int:
        rows = await self.session.write(self.q.checkpoint_delete_thread, {"thread_id": thread_id})
        return int(rows[0]["deleted"]) if rows else 0
