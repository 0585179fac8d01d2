"""Retrieval benchmark: ingestion rate and ``recall()`` latency at 1k / 10k / 100k facts.

    python bench/retrieval.py [--sizes 1000,10000,100000] [--store URL] [--queries 200]
        [--ingest-facts 2000] [--embedder minilm] [--precision auto|fp32|bf16]

For each size, one user gets N synthetic facts (people, places, employers, pets, hobbies,
trips and plans, with validity windows, some superseded) and N/4 messages; two other users
get their own data in the same store, so every read must filter by user. Then:

* ingestion: facts/s through the real write path (``Memory.commit``: reconciliation, MiniLM
  embedding of statements and names, one atomic write per batch), measured on the first
  ``--ingest-facts`` facts; the bulk of a large graph is written directly as write sets with
  precomputed vectors (MiniLM vectors of the measured facts, reused with noise) so the run
  takes minutes, not hours. The JSON says which is which. The baseline, in the same run: the
  same facts committed for another user with the embedder in float32 throughout
  (``--precision`` sets the measured one; ``auto`` runs the model in bfloat16 where the
  CPU has native bfloat16).
* recall: p50/p95 of ``Memory.recall`` (preset ``balanced``, query embedding included; the
  process caps BLAS at one thread and runs queries on half the cores, as the CLI does)
  beside a baseline measured in the same run on the same queries: brute-force numpy cosine
  over all the user's fact vectors + full-text search, fused by reciprocal rank, no graph,
  no episodes.

Prints one JSON document on stdout; progress goes to stderr. ``--store`` takes a URL
(``sqlite:///...``, ``falkordb://host:port/graph``); the default is a temporary SQLite file
per size. With a graph server, the benchmark's users are forgotten afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memlane.evals.metrics import percentile
from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import default_threads, make_embedder
from memlane.memory_graph.embedding.port import Embedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import (
    SELF_ID,
    Entity,
    Episode,
    Fact,
    FactQuery,
    WriteSet,
    entity_id_for,
)
from memlane.memory_graph.stores import GraphStore, open_store


def _words(text: str, sep: str = " ") -> list[str]:
    return [w.strip() for w in text.split(sep) if w.strip()]


USER = "bench-user"
OTHERS = ("bench-other-1", "bench-other-2")
BASE_USER = "bench-ingest-fp32"
T0 = datetime(2015, 1, 1, tzinfo=UTC)
NOW = datetime(2025, 1, 1, tzinfo=UTC)

FIRST = _words(
    "Anna Ben Carla Dmitri Erin Farid Gus Hana Ivo Jun Kai Lena Marco Nadia Omar Priya Quinn "
    "Rosa Sven Tara Umar Vera Wen Ximena Yusuf Zoe Aiko Bruno Chloe Diego Elif Femi Greta "
    "Hiro Ines Jonas Kofi Lucia Mateo Noor",
)
LAST = _words("Novak Silva Okafor Berg Tanaka Costa Kowalski Haddad Moreau Jensen Rossi Ivanova")
CITIES = _words(
    "Berlin Lisbon Oslo Kyoto Austin Nairobi Porto Quito Seoul Lyon Dublin Krakow Denver "
    "Hanoi Tunis Perth Bergen Bologna Valencia Montreal",
)
ORGS = _words(
    "Acme Robotics|Northwind Bank|Globex Health|Blue Harbor Labs|Pine Street Books|Helios "
    "Energy|Cobalt Games|Riverside Clinic|Atlas Logistics|Juniper Schools",
    "|",
)
JOBS = _words("nurse|data engineer|teacher|chef|architect|product manager|pilot|lawyer", "|")
LIKES = _words(
    "sushi|jazz|trail running|board games|sourdough baking|sci-fi novels|pottery|chess|"
    "salsa dancing|birdwatching|vinyl records|mountain biking|street photography|yoga",
    "|",
)
PETS = _words("dog|cat|parrot|rabbit|tortoise", "|")
PET_NAMES = _words("Rex Miso Pepper Luna Biscuit Olive Mango Ziggy")
RELATIONS = ("has_sibling", "friend_of", "has_child", "partner")
REL_WORDS = {"has_sibling": "sister", "friend_of": "friend", "has_child": "son", "partner": "wife"}


@dataclass
class Synth:
    """A deterministic generator of one user's life as fact drafts and messages."""

    seed: int

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.people = [f"{f} {s}" for f in FIRST for s in LAST]
        self.rng.shuffle(self.people)

    def person(self) -> str:
        return self.people[self.rng.randrange(min(len(self.people), 400))]

    def when(self) -> datetime:
        return T0 + timedelta(days=self.rng.randrange(0, 3600), minutes=self.rng.randrange(1440))

    def draft(self, i: int) -> FactDraft:
        r = self.rng
        valid = self.when()
        closed = valid + timedelta(days=r.randrange(30, 900)) if r.random() < 0.15 else None
        if closed and closed > NOW:
            closed = None
        who = "user" if r.random() < 0.3 else self.person()
        name = "User" if who == "user" else who.split()[0]
        kind = r.randrange(9)
        if kind == 0:
            city = r.choice(CITIES)
            return self._d(who, "lives_in", city, "place", f"{name} lives in {city}", valid, closed)
        if kind == 1:
            org = r.choice(ORGS)
            return self._d(who, "works_at", org, "org", f"{name} works at {org}", valid, closed)
        if kind == 2:
            job = r.choice(JOBS)
            text = f"{name} works as a {job}"
            return self._d(who, "job_title", job, "value", text, valid, closed)
        if kind == 3:
            thing = r.choice(LIKES)
            verb = r.choice(("loves", "enjoys", "is really into", "has got into"))
            return self._d(who, "likes", thing, "value", f"{name} {verb} {thing}", valid, closed)
        if kind == 4:
            pet, pname = r.choice(PETS), r.choice(PET_NAMES)
            text = f"{name} has a {pet} called {pname}"
            return self._d(who, "has_pet", f"{pname} ({pet} #{i})", "pet", text, valid, closed)
        if kind == 5:
            city = r.choice(CITIES)
            text = f"{name} visited {city} in {valid:%B %Y}"
            return self._d(who, "visited", city, "place", text, valid, None, kind="event")
        if kind == 6:
            rel = r.choice(RELATIONS)
            other = self.person()
            text = f"{other.split()[0]} is {name}'s {REL_WORDS[rel]}"
            return self._d(who, rel, other, "person", text, valid, None)
        if kind == 7:
            thing = r.choice(LIKES)
            text = f"{name} plans to take a {thing} course next spring"
            return self._d(who, "plans", f"{thing} course", "value", text, valid, None)
        thing = r.choice(LIKES)
        text = f"{name} mentioned that {thing} helps with stress after long weeks"
        return self._d(who, "note", f"{thing} #{i}", "value", text, valid, None)

    @staticmethod
    def _d(
        who: str,
        predicate: str,
        obj: str,
        object_kind: str,
        statement: str,
        valid: datetime,
        closed: datetime | None,
        *,
        kind: str = "fact",
    ) -> FactDraft:
        return FactDraft(
            subject=who,
            predicate=predicate,
            object=obj,
            object_kind=object_kind,  # type: ignore[arg-type]
            statement=statement,
            kind=kind,  # type: ignore[arg-type]
            valid_at=valid,
            invalid_at=closed,
        )

    def question(self) -> str:
        r = self.rng
        p = self.person().split()[0]
        return r.choice(
            (
                f"Where does {p} live now?",
                f"Where did {p} live before?",
                "Where do I work?",
                f"What does {p} do for a living?",
                f"What hobbies does {p} enjoy?",
                f"Does {p} have any pets?",
                "Who is my sister?",
                f"When did {p} visit {r.choice(CITIES)}?",
                f"What is {p} planning to learn?",
                "What helps me with stress?",
                f"Who works at {r.choice(ORGS)}?",
                "What do I like to eat?",
            )
        )


def _bulk_batches(
    user: str, synth: Synth, n: int, pool: np.ndarray, start: int, batch: int = 2000
) -> Iterator[WriteSet]:
    """Write sets of facts (and a message per four facts) with precomputed vectors.

    Entities are keyed by name like the reconciler keys them; vectors are MiniLM vectors of
    the measured facts, reused with a little noise (search cost does not depend on content).
    """
    rng = np.random.default_rng(synth.seed)
    seen: set[str] = set()
    for lo in range(start, n, batch):
        facts: list[Fact] = []
        entities: list[Entity] = []
        episodes: list[Episode] = []
        for i in range(lo, min(n, lo + batch)):
            d = synth.draft(i)
            subj = SELF_ID if d.about_self else entity_id_for(d.subject)
            obj_id = entity_id_for(d.object or "") if d.object_kind != "value" else None
            for eid, name, kind in (
                (
                    subj,
                    "user" if subj == SELF_ID else d.subject,
                    "self" if subj == SELF_ID else "person",
                ),
                (obj_id, d.object, d.object_kind),
            ):
                if eid and eid not in seen and name:
                    seen.add(eid)
                    entities.append(
                        Entity(id=eid, user_id=user, name=name, kind=kind, created_at=T0)  # type: ignore[arg-type]
                    )
            ep_id = f"m{i // 4}"
            if i % 4 == 0:
                episodes.append(
                    Episode(
                        id=ep_id,
                        user_id=user,
                        session_id=f"s{i // 200}",
                        content=f"By the way, {d.statement[0].lower()}{d.statement[1:]}.",
                        occurred_at=d.valid_at or T0,
                        recorded_at=d.valid_at or T0,
                    )
                )
            facts.append(
                Fact(
                    id=f"f{i}",
                    user_id=user,
                    subject_id=subj,
                    predicate=d.predicate,
                    object_id=obj_id,
                    value=d.object if obj_id is None else None,
                    statement=d.statement,
                    kind=d.kind,
                    valid_at=d.valid_at,
                    invalid_at=d.invalid_at,
                    recorded_at=d.valid_at or T0,
                    expired_at=(d.invalid_at + timedelta(days=1)) if d.invalid_at else None,
                    episode_ids=(ep_id,),
                )
            )

        def vec() -> np.ndarray:
            v = pool[rng.integers(len(pool))] + rng.normal(0, 0.05, pool.shape[1])
            return (v / np.linalg.norm(v)).astype(np.float32)

        yield WriteSet(
            user_id=user,
            episodes=episodes,
            entities=entities,
            facts=facts,
            fact_vectors={f.id: vec() for f in facts},
            episode_vectors={e.id: vec() for e in episodes},
            entity_vectors={e.id: vec() for e in entities},
        )


def _pct(values: list[float], p: float) -> float:
    return round(percentile(values, p / 100), 2)


async def _baseline(
    store: GraphStore, embedder: Embedder, matrix: np.ndarray, ids: list[str], query: str
) -> int:
    """Brute-force cosine over every fact vector of the user + FTS, RRF, load facts."""
    vector = embedder.embed([query])[0]
    sims = matrix @ vector
    top = np.argpartition(-sims, 50)[:50] if len(sims) > 50 else np.arange(len(sims))
    dense = [ids[i] for i in top[np.argsort(-sims[top])]]
    text = [h.id for h in await store.search_text(USER, "fact", query, 50)]
    scores: dict[str, float] = {}
    for hits in (dense, text):
        for rank, fid in enumerate(hits):
            scores[fid] = scores.get(fid, 0.0) + 1.0 / (60 + rank + 1)
    best = sorted(scores, key=lambda f: -scores[f])[:20]
    return len(await store.get_facts(USER, best))


async def _ingest(memory: Memory, user: str, drafts: list[FactDraft]) -> float:
    """Seconds to commit ``drafts`` through ``Memory.commit`` in batches of 250."""
    t0 = time.perf_counter()
    for lo in range(0, len(drafts), 250):
        chunk = drafts[lo : lo + 250]
        when = max(d.valid_at or T0 for d in chunk)
        ep = Episode(
            id=f"ingest-{lo}",
            user_id=user,
            session_id="ingest",
            content=f"Batch {lo} of what I told you.",
            occurred_at=when,
            recorded_at=when,
        )
        chunk = [d.model_copy(update={"episode_ids": [ep.id]}) for d in chunk]
        await memory.commit(user, chunk, [ep])
    return time.perf_counter() - t0


async def run_size(
    size: int, url: str, embedder: Embedder, fp32: Embedder, queries: int, ingest_facts: int
) -> dict[str, Any]:
    synth = Synth(seed=size)
    async with open_store(url) as store:
        memory = Memory(store, embedder, clock=lambda: NOW)
        # -- ingestion through the real write path -------------------------------------------
        # The same drafts twice: with the embedder as configured (bulk calls in bfloat16 where
        # the CPU has it), then, as the baseline, with float32 throughout, for a user that is
        # forgotten right after.
        measured = min(size, ingest_facts)
        drafts = [synth.draft(i) for i in range(measured)]
        for emb in (embedder, fp32):
            emb.embed(["warm up the model before timing"] * 64)
        ingest_s = await _ingest(memory, USER, drafts)
        base_s = await _ingest(Memory(store, fp32, clock=lambda: NOW), BASE_USER, drafts)
        await store.forget_user(BASE_USER)
        log(
            f"[{size}] ingested {measured} facts via Memory.commit in {ingest_s:.1f}s "
            f"(float32 baseline {base_s:.1f}s)"
        )
        # -- bulk: the rest, and other users -------------------------------------------------
        pool = embedder.embed([d.statement for d in drafts[:2000]])
        t1 = time.perf_counter()
        for ws in _bulk_batches(USER, synth, size, pool, start=measured):
            await store.apply(ws)
        for n, other in enumerate(OTHERS):
            for ws in _bulk_batches(
                other, Synth(seed=size + n + 1), max(1000, size // 10), pool, 0
            ):
                await store.apply(ws)
        log(f"[{size}] bulk load {time.perf_counter() - t1:.1f}s")
        counts = await store.counts(USER)
        # -- the baseline's index: every fact vector of the user, in memory -----------------
        # (vectors are not readable through the port, so the baseline keeps its own copy,
        # embedded the same way: the measured facts' vectors and the bulk reuse.)
        all_facts = await store.find_facts(USER, FactQuery(limit=1_000_000, include_retracted=True))
        ids = [f.id for f in all_facts]
        # Not kept: 100k records held by the benchmark itself would make each of the
        # collector's full passes (hundreds of ms) land on whichever query is running.
        del all_facts
        rng = np.random.default_rng(0)
        matrix = pool[rng.integers(len(pool), size=len(ids))]
        qs = [synth.question() for _ in range(queries)]
        for q in qs[:5]:  # warm caches (vector matrix load, model) before timing
            await memory.recall(USER, q)
            await _baseline(store, embedder, matrix, ids, q)
        lat, base, tokens = [], [], []
        cache = getattr(store, "record_cache", None)  # SQLite: decoded records kept
        warm = (cache.hits, cache.misses) if cache is not None else (0, 0)
        load_before = os.getloadavg()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for q in qs:
            # Alternate per query so both see the same machine load.
            t = time.perf_counter()
            ctx = await memory.recall(USER, q)
            lat.append((time.perf_counter() - t) * 1000)
            tokens.append(ctx.tokens)
            t = time.perf_counter()
            await _baseline(store, embedder, matrix, ids, q)
            base.append((time.perf_counter() - t) * 1000)
        cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
        hits, misses = (
            (cache.hits - warm[0], cache.misses - warm[1]) if cache is not None else (0, 0)
        )
        load_after = os.getloadavg()
        if not url.startswith("sqlite"):
            for user in (USER, *OTHERS):
                await store.forget_user(user)
    return {
        "facts": counts.get("facts", 0),
        "episodes": counts.get("episodes", 0),
        "entities": counts.get("entities", 0),
        "ingest": {
            "facts_measured": measured,
            "facts_per_s": round(measured / ingest_s, 1),
            "precision": "bf16" if getattr(embedder, "bf16", False) else "fp32",
            "baseline_fp32_facts_per_s": round(measured / base_s, 1),
            "ratio_over_baseline": round(base_s / ingest_s, 2),
            "path": "Memory.commit (reconcile + embed + atomic apply), batches of 250",
            "bulk_rest": size - measured,
            "bulk_note": "rest written as WriteSets with precomputed vectors",
        },
        # A query is one or two texts: below ``small_below`` the embedder runs MiniLM in
        # ONNX Runtime, float32, whatever ``--precision`` says (that applies to bulk calls only).
        "query_embedding": (
            "onnxruntime float32" if getattr(embedder, "small_below", 0) > 2 else "model precision"
        ),
        "recall_ms": {
            "p50": _pct(lat, 50),
            "p95": _pct(lat, 95),
            "mean": round(statistics.fmean(lat), 2),
        },
        "baseline_ms": {"p50": _pct(base, 50), "p95": _pct(base, 95)},
        "p95_ratio_recall_over_baseline": round(_pct(lat, 95) / max(_pct(base, 95), 1e-9), 2),
        "context_tokens_median": statistics.median(tokens),
        # Records read during the timed queries that were already decoded in memory (the
        # SQLite store keeps them until written; recall and baseline share the store).
        "record_cache_hit_rate": round(hits / max(hits + misses, 1), 3)
        if cache is not None
        else None,
        # How loaded the machine was while the queries ran: the 1-minute load average
        # before and after (on os.cpu_count() cores) and this process's CPU seconds per
        # wall second over the timed loop (recall and baseline together).
        "machine": {
            "loadavg_1m_before": round(load_before[0], 2),
            "loadavg_1m_after": round(load_after[0], 2),
            "process_cpu_per_wall": round(cpu_s / max(wall_s, 1e-9), 2),
        },
    }


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--store", default=None, help="store URL (default: temp SQLite per size)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ingest-facts", type=int, default=2000)
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--precision", default="auto", choices=("auto", "fp32", "bf16"))
    args = parser.parse_args()
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(key, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # The bench is the host process, so it applies the application's thread tuning (one BLAS
    # thread, torch on half the cores for queries) to memlane and the baseline alike.
    threadpool_limits(limits=1, user_api="blas")
    embedder = make_embedder(args.embedder, args.precision, default_threads())
    fp32 = make_embedder(args.embedder, "fp32", default_threads())
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="memlane-bench-") as tmp:
        for size in sizes:
            url = args.store or f"sqlite:///{Path(tmp) / f'bench-{size}.db'}"
            results[str(size)] = await run_size(
                size, url, embedder, fp32, args.queries, args.ingest_facts
            )
            log(f"[{size}] {json.dumps(results[str(size)])}")
    out = {
        "benchmark": "memlane-retrieval",
        "store": args.store or "sqlite (temporary file per size)",
        "embedder": embedder.name,
        "preset": "balanced",
        "queries": args.queries,
        "cpu_count": os.cpu_count(),
        "sizes": results,
    }
    sys.stdout.write(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
