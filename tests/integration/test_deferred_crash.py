"""SIGKILL of ``memlane serve`` during deferred writes: nothing acknowledged is lost.

The server defers memory writes; its extraction model is an endpoint that accepts requests
and never answers (a model server stuck on a long answer), so the acknowledged writes are
still queued when the server is killed. After a restart (extraction now by the offline
model) every acknowledged message is stored, and the queue resumes: every one of them gets
its facts, in order per user. Counts are printed (``-s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from memlane.memory_graph.stores import open_store

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CITIES = ["Lisbon", "Porto", "Madrid", "Paris", "Berlin", "Oslo", "Rome", "Vienna", "Prague"]
USERS = ("ana", "ben")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stuck_model() -> Iterator[str]:
    """An OpenAI-compatible endpoint that accepts every request and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = server.accept()
                held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def _serve(db: Path, port: int, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MEMLANE_STORE": f"sqlite:///{db}",
        "MEMLANE_DEFER_WRITES": "1",
        "MEMLANE_SETTLE_WRITES_S": "0",
        "MEMLANE_EMBEDDER": "hash",
        "MEMLANE_MODEL": "memlane/offline",
        **extra,
    }
    cmd = [str(Path(sys.executable).parent / "memlane"), "serve", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"memlane serve exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1),
        ):
            return proc
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("memlane serve did not start")


def _chat(port: int, user: str, message: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/users/{user}/chat",
        data=json.dumps({"message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]


async def _state(db: Path) -> dict[str, dict]:
    async with open_store(f"sqlite:///{db}") as store:
        out = {}
        for user in USERS:
            records = [r async for r in store.export(user)]
            jobs = await store.find_jobs(user, ("pending", "failed", "done"))
            out[user] = {
                "episodes": {r["content"]: r["id"] for r in records if r["type"] == "episode"},
                "facts": [r for r in records if r["type"] == "fact"],
                "jobs": {j.status: sum(1 for k in jobs if k.status == j.status) for j in jobs},
                # Completion order: each job is marked done in its facts' write.
                "done_order": [
                    j.episode_ids
                    for j in sorted(jobs, key=lambda j: j.updated_at)
                    if j.status == "done"
                ],
            }
        return out


def test_sigkill_during_deferred_writes_loses_no_acknowledged_message(
    tmp_path: Path, stuck_model: str
) -> None:
    db = tmp_path / "memory.db"
    port = _free_port()
    stuck = {
        "MEMLANE_EXTRACTION__MODEL": "openai/stuck",
        "MEMLANE_EXTRACTION__API_BASE": stuck_model,
        "MEMLANE_EXTRACTION__API_KEY": "sk-test",
        "MEMLANE_EXTRACTION__TIMEOUT_S": "600",
    }
    proc = _serve(db, port, stuck)
    acked: dict[str, list[str]] = {u: [] for u in USERS}
    try:
        for city in CITIES:
            for user in USERS:
                message = f"I moved to {city}."
                if _chat(port, user, message)["write_status"] == "queued":
                    acked[user].append(message)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    crashed = asyncio.run(_state(db))

    proc = _serve(db, port, {})  # extraction back on the (offline) chat model
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            after = asyncio.run(_state(db))
            if not any(after[u]["jobs"].get("pending") for u in USERS):
                break
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)

    counts = {
        u: {
            "acknowledged": len(acked[u]),
            "stored_after_kill": sum(m in crashed[u]["episodes"] for m in acked[u]),
            "pending_after_kill": crashed[u]["jobs"].get("pending", 0),
            "jobs_done_after_restart": after[u]["jobs"].get("done", 0),
            "facts_after_restart": len(after[u]["facts"]),
        }
        for u in USERS
    }
    print("\ndeferred writes, SIGKILL then restart:", json.dumps(counts))
    for user in USERS:
        c = counts[user]
        assert c["acknowledged"] == len(CITIES)
        assert c["stored_after_kill"] == c["acknowledged"]  # durable before "queued"
        assert c["pending_after_kill"] == c["acknowledged"]  # none was extracted: all owed
        assert c["jobs_done_after_restart"] == c["acknowledged"]
        # Every acknowledged message has its facts, and they were applied in order.
        episodes = after[user]["episodes"]
        cited = {e for f in after[user]["facts"] for e in f["episode_ids"]}
        assert all(episodes[m] in cited for m in acked[user])
        order = [episodes[m] for m in acked[user]]
        assert [ids[0] for ids in after[user]["done_order"]] == order
        current = [f for f in after[user]["facts"] if not f.get("invalid_at")]
        assert any(CITIES[-1] in f["statement"] for f in current)
