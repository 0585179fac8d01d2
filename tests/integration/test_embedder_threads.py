"""The MiniLM embedder picks torch threads per call: all cores for bulk batches when OpenMP's
workers wait passively, one thread set for small batches (queries). In a subprocess: the wait
policy is read once per process, when torch loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = """
import json, os, sys
from memory_graph.embedders import SentenceTransformerEmbedder, make_embedder
base = make_embedder("minilm")
emb = SentenceTransformerEmbedder(base.model_ref, threads=1, bulk_threads=2, bulk_min=4)
seen = {}
for n in (1, 4, 1):
    vecs = emb.embed(["I live in Berlin"] * n)
    seen.setdefault(str(n), []).append(sys.modules["torch"].get_num_threads())
    assert vecs.shape == (n, 384)
print(json.dumps({"threads": seen, "policy": os.environ.get("OMP_WAIT_POLICY")}))
"""


def _run(env_policy: str | None) -> dict[str, object]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("OMP_WAIT_POLICY", None)
    if env_policy:
        env["OMP_WAIT_POLICY"] = env_policy
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_bulk_batches_use_bulk_threads_small_ones_one_thread() -> None:
    out = _run(None)
    assert out == {"threads": {"1": [1, 1], "4": [2]}, "policy": "PASSIVE"}


def test_spinning_openmp_workers_keep_bulk_batches_on_one_thread() -> None:
    # A process that chose active waiting: two spinning threads on a busy machine are slower
    # than one, so bulk batches stay on ``threads``.
    out = _run("ACTIVE")
    assert out == {"threads": {"1": [1, 1], "4": [1]}, "policy": "ACTIVE"}
