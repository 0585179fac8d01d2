"""The MiniLM embedder: a bulk call (chunks, threads chosen by measured throughput) gives the
same vectors as small calls, and small calls run on ``threads``. In a subprocess: OpenMP's
wait policy is read once per process, when torch loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = """
import json, os, sys
import numpy as np
from memory_graph.embedders import SentenceTransformerEmbedder, make_embedder
base = make_embedder("minilm")
emb = SentenceTransformerEmbedder(base.model_ref, threads=1, bulk_threads=2, bulk_min=8)
texts = [f"Friend {i} lives in city {i % 7}, likes {'jazz ' * (i % 5)}" for i in range(40)]
bulk = emb.embed(texts)
small = np.concatenate([emb.embed([t]) for t in texts])
print(json.dumps({
    "same": bool(np.allclose(bulk, small, atol=1e-5)),
    "timed": sorted(emb.chooser.rate),
    "small_threads": sys.modules["torch"].get_num_threads(),
    "policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
}))
"""


def test_bulk_call_gives_the_vectors_of_small_calls() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("OMP_WAIT_POLICY", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"same": True, "timed": [1, 2], "small_threads": 1, "policy": "unset"}
