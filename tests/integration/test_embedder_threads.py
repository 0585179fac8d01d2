"""The MiniLM embedder: without ``threads`` it leaves torch's thread count as the host set
it; with ``threads`` (the application's opt-in) a bulk call (chunks, threads chosen by
measured throughput) gives the vectors of small calls, and small calls run on ``threads``; in
bfloat16 every vector is within cosine 0.9999 of its float32 one. In a subprocess: OpenMP's
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
from memlane.memory_graph.embedding.models import SentenceTransformerEmbedder, make_embedder
base = make_embedder("minilm")
import torch
torch.set_num_threads(2)  # the host's choice
plain = SentenceTransformerEmbedder(
    base.model_ref, bulk_min=8, batch_size=8, precision="fp32", small_below=0
)
texts = [f"Friend {i} lives in city {i % 7}, likes {'jazz ' * (i % 5)}" for i in range(40)]
plain_bulk = plain.embed(texts)
plain.embed(texts[:1])
host_threads = torch.get_num_threads()
# small_below=0: small calls in torch too (what this test is about; ONNX Runtime's are tested in
# tests/unit/test_onnx_bert.py).
emb = SentenceTransformerEmbedder(
    base.model_ref, threads=1, bulk_threads=2, bulk_min=8, batch_size=8, precision="fp32",
    small_below=0,
)
half = SentenceTransformerEmbedder(
    base.model_ref, threads=1, bulk_threads=2, bulk_min=8, batch_size=8, precision="bf16",
    small_below=0,
)
bulk = emb.embed(texts)
small = np.concatenate([emb.embed([t]) for t in texts])
bulk_half = half.embed(texts)
small_half = np.concatenate([half.embed([t]) for t in texts])
print(json.dumps({
    "host_threads": host_threads,
    "plain_same": bool(np.allclose(plain_bulk, bulk, atol=1e-5)),
    "same": bool(np.allclose(bulk, small, atol=1e-5)),
    "bf16_close": bool(((bulk_half * small).sum(axis=1) >= 0.9999).all()),
    "bf16_bulk_is_small": bool(((bulk_half * small_half).sum(axis=1) >= 0.99999).all()),
    "bf16_differs": not bool(np.array_equal(bulk_half, small)),
    "bf16_unit": bool(np.allclose(np.linalg.norm(bulk_half, axis=1), 1.0, atol=1e-5)),
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
    assert out == {
        "host_threads": 2,
        "plain_same": True,
        "same": True,
        "bf16_close": True,
        "bf16_bulk_is_small": True,
        "bf16_differs": True,
        "bf16_unit": True,
        "timed": [1, 2],
        "small_threads": 1,
        "policy": "unset",
    }
