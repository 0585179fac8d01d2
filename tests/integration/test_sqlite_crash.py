"""A writer process killed with SIGKILL mid-ingest leaves every turn whole or absent.

The writer is this module run as a script: it applies one write set per turn (an episode,
an entity, many facts, all with vectors) and prints each turn number after it commits. The
test kills it at arbitrary points, reopens the file and checks every turn record by record.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from memlane.memory_graph.stores import open_store
from memlane.memory_graph.stores.sqlite.migrations import MIGRATIONS, migrate
from tests.conftest import Sample

pytestmark = pytest.mark.integration

FACTS_PER_TURN = 25
ROOT = Path(__file__).resolve().parents[2]


async def _write(db: Path, start: int) -> None:
    sample = Sample()
    async with open_store(f"sqlite:///{db}") as store:
        for n in range(start, start + 100_000):
            await store.apply(sample.turn("alice", n, facts=FACTS_PER_TURN))
            print(n, flush=True)


def _run_writer_until(db: Path, start: int, commits: int) -> int:
    """Start a writer at turn ``start``, SIGKILL it after ``commits`` commits; last seen."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.test_sqlite_crash", str(db), str(start)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    last = start - 1
    try:
        for line in proc.stdout:
            last = int(line)
            if last >= start + commits - 1:
                break  # it is already writing the next turn: kill it mid-transaction
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return last


async def _turns(db: Path) -> dict[int, list[dict]]:
    """The stored records of each turn, by turn number."""
    by_turn: dict[int, list[dict]] = defaultdict(list)
    async with open_store(f"sqlite:///{db}") as store:
        async for record in store.export("alice"):
            rid = record["id"]
            number = rid.removeprefix("ep").removeprefix("place").removeprefix("f").split("_")[0]
            by_turn[int(number)].append(record)
    return by_turn


def _check_turns(by_turn: dict[int, list[dict]], committed: int) -> None:
    whole = 2 + FACTS_PER_TURN  # episode + entity + facts, each with a vector
    for n, records in by_turn.items():
        assert len(records) == whole, f"turn {n} is partial: {len(records)} of {whole}"
        assert all("vector" in r for r in records), f"turn {n} lost vectors"
    missing = [n for n in range(committed + 1) if n not in by_turn]
    assert not missing, f"committed turns missing: {missing}"
    # turns are written in order, so at most the one in flight can be beyond `committed`
    assert max(by_turn) <= committed + 1


def _check_file(db: Path) -> None:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for table in ("fact_fts", "episode_fts", "entity_fts"):
            conn.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
        conn.isolation_level = None
        assert migrate(conn) == []  # nothing half-applied
    finally:
        conn.close()


def test_sigkill_mid_ingest_leaves_whole_turns(tmp_path: Path) -> None:
    db = tmp_path / "crash" / "memory.db"
    start = 0
    for commits in (15, 7, 22):  # three writers, each killed mid-ingest
        committed = _run_writer_until(db, start, commits)
        by_turn = asyncio.run(_turns(db))
        _check_turns(by_turn, committed)
        _check_file(db)
        start = max(by_turn) + 1

    async def still_usable() -> None:
        sample = Sample()
        async with open_store(f"sqlite:///{db}") as store:
            info = await store.info()
            assert info.ok, info.problems
            assert info.details["migrations"] == [m.name for m in MIGRATIONS]
            await store.apply(sample.turn("alice", 10_000, facts=2))
            assert len(await store.get_facts("alice", ["f10000_0", "f10000_1"])) == 2
            hits = await store.search_text("alice", "fact", "visited place 10000", 3)
            assert hits and hits[0].id.startswith("f10000_")
        async with open_store(f"sqlite:///{db}") as store:  # and opens again as a no-op
            assert (await store.info()).details["migrations"] == [m.name for m in MIGRATIONS]

    asyncio.run(still_usable())


if __name__ == "__main__":
    asyncio.run(_write(Path(sys.argv[1]), int(sys.argv[2])))
