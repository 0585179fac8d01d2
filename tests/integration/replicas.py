"""``memlane serve`` replicas as processes on loopback ports, over one store URL.

Used by the multi-replica test and by ``bench/serve.py``. Each replica is its own process;
the store is the only thing they share, thread checkpoints included (they live in the store),
so a session may move between replicas. Started on a free 127.0.0.1 port, stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.integration import processes

__all__ = ["Replica", "replicas"]


class Replica:
    """One ``memlane serve`` process (the offline model, the hash embedder, inline writes).

    Args:
        store: the store URL every replica shares.
        home: this replica's own folder (its log).
        embedder: ``hash`` (fast, for tests) or any embedder setting.
    """

    def __init__(self, store: str, home: Path, *, embedder: str = "hash") -> None:
        self.store, self.home, self.embedder = store, Path(home), embedder
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 180.0) -> Replica:
        """Start the process and wait until ``/healthz`` answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = processes.free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "MEMLANE_STORE": self.store,
            "MEMLANE_MODEL": "memlane/offline",
            "MEMLANE_EMBEDDER": self.embedder,
            "MEMLANE_DEFER_WRITES": "false",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        env.pop("MEMLANE_API_KEY", None)
        env.pop("MEMLANE_CHECKPOINT_DB", None)  # threads in the store, shared
        code = "from memlane.app.cli import main; main()"
        cmd = [sys.executable, "-c", code, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        log = open(self.home / "serve.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"replica exited with {code}: {self.home}/serve.log")
            health = f"{self.base_url}/healthz"
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2) as reply:
                if reply.status == 200:
                    return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"replica did not answer in {timeout_s}s: {self.home}/serve.log")

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM by PID (uvicorn shuts down cleanly) and wait; SIGKILL if it hangs."""
        proc, self.proc = self.proc, None
        processes.stop(proc, timeout_s)


@contextlib.contextmanager
def replicas(store: str, home: Path, n: int, *, embedder: str = "hash") -> Iterator[list[Replica]]:
    """``n`` replicas over one store, started one after the other, stopped on exit."""
    started: list[Replica] = []
    try:
        for i in range(n):
            started.append(Replica(store, home / f"replica{i}", embedder=embedder).start())
        yield started
    finally:
        for replica in started:
            replica.stop()
