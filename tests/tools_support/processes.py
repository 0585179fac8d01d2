"""Helpers for tests that run memlane as separate processes: the CLI and ``memlane serve``.

A server listens on 127.0.0.1 on a free port and is stopped by its PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]  # the repository
MEMLANE = [sys.executable, "-c", "from memlane.app.cli import main; main()"]


def free_port() -> int:
    """A TCP port on the loopback interface that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memlane_env(store: Path, **extra: str) -> dict[str, str]:
    """The environment of a memlane process on the SQLite file ``store`` (hash embedder)."""
    env = {**os.environ, "MEMLANE_EMBEDDER": "hash", "MEMLANE_STORE": f"sqlite:///{store}"}
    for key in ("MEMLANE_API_KEY", "MEMLANE_CHECKPOINT_DB", "MEMLANE_DEFER_WRITES"):
        env.pop(key, None)
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``memlane ARGS...`` to completion, with its output captured."""
    return subprocess.run(
        [*MEMLANE, *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def serving(env: dict[str, str]) -> Iterator[str]:
    """``memlane serve`` on a free loopback port; yields its base URL, then stops it."""
    port = free_port()
    proc = subprocess.Popen(
        [*MEMLANE, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"memlane serve did not start: {err[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
