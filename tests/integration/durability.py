"""The crash test both graph servers share: SIGKILL the server while a process ingests turns,
restart it on the same data, and check every acknowledged turn is whole and none is half-written.

A server plugs in with three callables (see :func:`kill_mid_ingest`); the FalkorDB and Neo4j
tests differ only in how they start, kill and restart their server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from memlane.memory_graph.stores import open_store

__all__ = ["FACTS_PER_TURN", "kill_mid_ingest"]

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


def kill_mid_ingest(
    url: str, kill: Callable[[], None], restart: Callable[[], str], *, after: int = 15
) -> int:
    """Ingest turns into ``url`` in a child process, ``kill()`` the server once ``after``
    turns are acknowledged, ``restart()`` it (returning the store URL to read), and assert
    the outcome. Returns how many turns were acknowledged."""
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
            if acked >= after:
                kill()  # SIGKILL while the child keeps writing
                break
    finally:
        kill()
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        # Acks the child wrote after the one we stopped reading at count too.
        rest = child.communicate()[0] or ""
        acked = max([acked, *(int(x.split()[1]) for x in rest.splitlines() if x[:4] == "ack ")])
    assert acked >= after, f"the child acknowledged only {acked} turns before it stopped"

    facts, whole = asyncio.run(_turns(restart()))
    for n in range(1, acked + 1):
        assert facts.get(n) == FACTS_PER_TURN, f"acknowledged turn {n} lost"
    for n, count in facts.items():
        assert count == FACTS_PER_TURN and whole[n], f"turn {n} is half-written"
    assert max(facts) in (acked, acked + 1)  # at most the one in flight landed unacknowledged
    return acked
