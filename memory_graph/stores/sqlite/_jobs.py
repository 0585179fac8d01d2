"""Extraction jobs in SQLite: one table, each job as its JSON (``ExtractionJob.to_json``)
beside the columns it is queried by."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from memlane.memory_graph.jobs import ExtractionJob

__all__ = ["CREATE", "delete_user", "find", "write"]

CREATE = (
    """
    CREATE TABLE extraction_jobs (
        user_id TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'failed', 'done')),
        created_at TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (user_id, id)
    )
    """,
    "CREATE INDEX extraction_jobs_by_status ON extraction_jobs (status, created_at)",
)

_UPSERT = (
    "INSERT INTO extraction_jobs (user_id, id, status, created_at, record) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, id) DO UPDATE SET "
    "status = excluded.status, record = excluded.record"
)


def write(conn: sqlite3.Connection, jobs: Sequence[ExtractionJob]) -> None:
    """Upsert jobs (inside the caller's transaction)."""
    conn.executemany(
        _UPSERT,
        [(j.user_id, j.id, j.status, j.created_at.isoformat(), j.to_json()) for j in jobs],
    )


def find(
    conn: sqlite3.Connection,
    user_id: str | None,
    statuses: Sequence[str],
    ids: Sequence[str] | None,
    limit: int,
) -> list[ExtractionJob]:
    """Jobs in ``statuses`` (of one user, or all; of ``ids`` when given), oldest first."""
    where = ["status IN (SELECT value FROM json_each(?))"]
    params: list[object] = [_json_list(statuses)]
    if user_id is not None:
        where.append("user_id = ?")
        params.append(user_id)
    if ids is not None:
        where.append("id IN (SELECT value FROM json_each(?))")
        params.append(_json_list(ids))
    sql = (
        f"SELECT record FROM extraction_jobs WHERE {' AND '.join(where)} "
        "ORDER BY created_at, id LIMIT ?"
    )
    rows = conn.execute(sql, [*params, int(limit)])
    return [ExtractionJob.from_json(r[0]) for r in rows]


def delete_user(conn: sqlite3.Connection, user_id: str) -> int:
    return conn.execute("DELETE FROM extraction_jobs WHERE user_id = ?", (user_id,)).rowcount


def _json_list(values: Sequence[str]) -> str:
    import json

    return json.dumps(list(values))
