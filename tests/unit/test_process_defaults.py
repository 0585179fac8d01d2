"""memlane's own programs tune threads through the environment at start-up, leaving what the
user set; Settings then hands the embedder its opt-in thread count."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from memlane.agent.settings import Settings
from memlane.app.process import configure_process, thread_defaults

pytestmark = pytest.mark.unit


def test_thread_defaults_apply_only_where_the_user_set_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("MEMLANE_EMBED_THREADS", "2")
    configure_process()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["MEMLANE_EMBED_THREADS"] == "2"  # the user's choice stays
    assert Settings().embed_threads == 2
    assert int(thread_defaults()["MEMLANE_EMBED_THREADS"]) >= 1


def test_a_library_host_gets_no_thread_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMLANE_EMBED_THREADS", raising=False)
    assert Settings().embed_threads is None


# In a fresh process: OpenBLAS reads its variable when numpy loads, and LiteLLM stays unloaded.
LATE = """
import json, os, sys
os.environ.pop("OPENBLAS_NUM_THREADS", None)
import numpy  # before configure_process, as the CLI's modules import it
from threadpoolctl import threadpool_info, threadpool_limits
threadpool_limits(limits=2, user_api="blas")  # what a 2-core machine starts with
from memlane.app.process import configure_process
configure_process(llm=False)
print(json.dumps({
    "blas": [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"],
    "env": os.environ["OPENBLAS_NUM_THREADS"],
    "heavy": [m for m in ("litellm", "torch") if m in sys.modules],
}))
"""


def test_blas_threads_are_limited_even_when_numpy_loaded_first() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    done = subprocess.run(
        [sys.executable, "-c", LATE], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["env"] == "1" and seen["blas"] and set(seen["blas"]) == {1}
    assert seen["heavy"] == []
