"""CLI cold start: one ``memlane recall`` and a batch of queries, beside ``memlane --help``.

    python bench/cold_start.py [--facts 1000] [--queries 60] [--runs 3]

Builds a SQLite store of one user with ``--facts`` synthetic facts (the generator of
bench/retrieval.py; statements embedded with MiniLM, as ``memlane ingest`` would store
them), then times, as fresh processes, each ``--runs`` times:

* ``memlane --help`` (the baseline: the interpreter and the CLI's imports, no model);
* ``memlane recall USER QUERY --store URL`` (one question: settings, store, the model, one
  recall);
* ``memlane recall USER --queries FILE --json --store URL`` (``--queries`` questions in one
  process: the model loads once).

Prints one JSON document (wall seconds, min and median of the runs, each over the ``--help``
baseline of the same run, and the CPU seconds each process used; the processor and the load
average before and after) on stdout; progress on stderr. Wall times include waiting for the
CPU, so they rise when other processes keep the cores busy (the load average says how busy);
CPU seconds do much less.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from memlane.memory_graph.embedding.models import make_embedder  # noqa: E402
from memlane.memory_graph.stores import open_store  # noqa: E402

USER = "cold-user"


def _bench_retrieval() -> Any:
    spec = importlib.util.spec_from_file_location(
        "bench_retrieval", ROOT / "bench" / "retrieval.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


async def build_store(url: str, facts: int) -> list[str]:
    """The store, and questions about it."""
    retrieval = _bench_retrieval()
    synth = retrieval.Synth(seed=facts)
    embedder = make_embedder("minilm")
    drafts = [synth.draft(i) for i in range(min(facts, 500))]
    pool = np.asarray(embedder.embed([d.statement for d in drafts]), dtype=np.float32)
    async with open_store(url) as store:
        for ws in retrieval._bulk_batches(USER, synth, facts, pool, start=0):
            await store.apply(ws)
    return [synth.question() for _ in range(200)]


def _timed(cmd: list[str], env: dict[str, str], cpu: list[float]) -> float:
    """Wall seconds of ``cmd``; its CPU seconds (user + system) are appended to ``cpu``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {done.stderr[-1000:]}")
    return elapsed


def _summary(
    times: list[float], base: list[float], cpu: list[float], base_cpu: list[float]
) -> dict[str, float]:
    return {
        "min_s": round(min(times), 3),
        "median_s": round(statistics.median(times), 3),
        "median_over_help": round(statistics.median(times) / statistics.median(base), 2),
        "cpu_s_median": round(statistics.median(cpu), 3),
        "cpu_over_help": round(statistics.median(cpu) / max(statistics.median(base_cpu), 1e-9), 2),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--facts", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    exe = str(Path(sys.executable).with_name("memlane"))
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="memlane-cold-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'cold.db'}"
        questions = asyncio.run(build_store(url, args.facts))
        batch = Path(tmp) / "queries.txt"
        batch.write_text("\n".join(questions[: args.queries]) + "\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEMLANE_")}
        env["MEMLANE_STORE"] = url
        runs: dict[str, list[float]] = {"help": [], "recall": [], "batch": []}
        cpu: dict[str, list[float]] = {"help": [], "recall": [], "batch": []}
        for i in range(args.runs):
            # Interleaved, so all three see the same machine load.
            runs["help"].append(_timed([exe, "--help"], env, cpu["help"]))
            runs["recall"].append(_timed([exe, "recall", USER, questions[i]], env, cpu["recall"]))
            runs["batch"].append(
                _timed([exe, "recall", USER, "--queries", str(batch), "--json"], env, cpu["batch"])
            )
            print(f"run {i + 1}: " + json.dumps({k: round(v[-1], 2) for k, v in runs.items()}),
                  file=sys.stderr)  # fmt: skip
    out = {
        "benchmark": "memlane-cli-cold-start",
        "facts": args.facts,
        "batch_queries": args.queries,
        "runs": args.runs,
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "loadavg_1_5_15_before": load_before,
        "loadavg_1_5_15_after": _load(),
        "help": _summary(runs["help"], runs["help"], cpu["help"], cpu["help"]),
        "recall_one": _summary(runs["recall"], runs["help"], cpu["recall"], cpu["help"]),
        "recall_batch": _summary(runs["batch"], runs["help"], cpu["batch"], cpu["help"]),
    }
    sys.stdout.write(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
