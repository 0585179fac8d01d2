"""Fault suite: ``memlane serve``, a ``memlane chat`` and ``memlane ingest`` on one SQLite file.

Three processes write the same store at once (HTTP chats, a CLI chat and two ingests of one
file). Every write that is acknowledged must be present exactly once afterwards, and no
request may fail with a 5xx because another process held the file's lock. The counts are
printed (``pytest -s``) for the fault-suite summary.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.tools_support.processes import memlane_env, run_cli, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HTTP_CHATS = 40
CLI_CHATS = 20
FILE_MESSAGES = 300


def _user_episodes(db: Path, user: str) -> Counter[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT content FROM episodes WHERE user_id = ? AND role = 'user'", (user,)
        ).fetchall()
    return Counter(r[0] for r in rows)


async def _http_chats(base: str) -> list[tuple[int, str, str]]:
    """(status, write_status, message) of each chat, four at a time."""
    limit = asyncio.Semaphore(4)

    async def one(client: httpx.AsyncClient, i: int) -> tuple[int, str, str]:
        message = f"Web note {i}: I visited museum number {i} today."
        async with limit:
            res = await client.post("/users/web/chat", json={"message": message}, timeout=120)
        status = res.json().get("write_status", "") if res.status_code == 200 else ""
        return res.status_code, status, message

    async with httpx.AsyncClient(base_url=base) as client:
        return await asyncio.gather(*(one(client, i) for i in range(HTTP_CHATS)))


async def test_server_cli_chat_and_ingest_share_one_store(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    env = memlane_env(db)
    lines = [
        json.dumps({"role": "user", "content": f"File line {i}: I read book number {i}."})
        for i in range(FILE_MESSAGES)
    ]
    messages = tmp_path / "messages.jsonl"
    messages.write_text("\n".join(lines) + "\n")
    cli_lines = [f"CLI note {i}: I cooked dish number {i}." for i in range(CLI_CHATS)]

    with serving(env) as base:
        chat = asyncio.to_thread(
            run_cli, "chat", "cli", "--inline", env=env, stdin="\n".join(cli_lines) + "\n"
        )
        ingests = [
            asyncio.to_thread(run_cli, "ingest", str(messages), "--user", "file", env=env)
            for _ in range(2)
        ]
        http, chat_done, *ingest_done = await asyncio.gather(_http_chats(base), chat, *ingests)

    statuses = Counter(code for code, _, _ in http)
    server_errors = sum(n for code, n in statuses.items() if code >= 500)
    acked = [m for code, ws, m in http if code == 200 and ws == "committed"]
    web = _user_episodes(db, "web")
    cli = _user_episodes(db, "cli")
    file = _user_episodes(db, "file")
    summary = {
        "http_chats": HTTP_CHATS,
        "http_status": dict(statuses),
        "http_5xx": server_errors,
        "http_committed": len(acked),
        "http_committed_present_once": sum(web[m] == 1 for m in acked),
        "cli_exit": chat_done.returncode,
        "cli_chats_present_once": sum(cli[m] == 1 for m in cli_lines),
        "ingest_exits": [p.returncode for p in ingest_done],
        "file_messages_present_once": sum(file[json.loads(line)["content"]] == 1 for line in lines),
        "duplicates": sum(n - 1 for c in (web, cli, file) for n in c.values() if n > 1),
    }
    print("fault suite, shared store:", json.dumps(summary))

    assert server_errors == 0, statuses
    assert len(acked) == HTTP_CHATS, http
    assert summary["http_committed_present_once"] == HTTP_CHATS
    assert chat_done.returncode == 0, chat_done.stderr[-2000:]
    assert "memory not updated" not in chat_done.stderr
    assert summary["cli_chats_present_once"] == CLI_CHATS
    assert summary["ingest_exits"] == [0, 0], [p.stderr[-2000:] for p in ingest_done]
    assert summary["file_messages_present_once"] == FILE_MESSAGES
    assert summary["duplicates"] == 0


_HOLD = """
import sqlite3, sys, time
conns = []
for path in sys.argv[2:]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    conns.append(conn)
print("locked", flush=True)
time.sleep(float(sys.argv[1]))
for conn in conns:
    conn.execute("COMMIT")
"""


async def test_a_store_locked_by_another_process_makes_writes_wait_not_fail(
    tmp_path: Path,
) -> None:
    """Another process holds the write lock for 7 s (longer than SQLite's default 5 s wait):
    chats sent meanwhile wait and commit; none is answered 5xx for a write that landed."""
    import subprocess
    import sys

    db = tmp_path / "busy.db"
    env = memlane_env(db)
    with serving(env) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            first = await client.post("/users/web/chat", json={"message": "I live in Oslo."})
            assert first.status_code == 200
            # The old layout kept threads in a second file beside the store: lock both.
            files = [str(p) for p in sorted(tmp_path.glob("busy*.db"))]
            holder = subprocess.Popen(
                [sys.executable, "-c", _HOLD, "7", *files], stdout=subprocess.PIPE, text=True
            )
            try:
                assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
                replies = await asyncio.gather(
                    *(
                        client.post(
                            "/users/web/chat",
                            json={"message": f"Busy note {i}: I own {i} plants."},
                            timeout=120,
                        )
                        for i in range(6)
                    )
                )
            finally:
                holder.wait(timeout=60)
                holder.stdout.close()  # type: ignore[union-attr]
    codes = Counter(r.status_code for r in replies)
    episodes = _user_episodes(db, "web")
    present = sum(episodes[f"Busy note {i}: I own {i} plants."] == 1 for i in range(6))
    print(
        "fault suite, locked store:", json.dumps({"status": dict(codes), "present_once": present})
    )
    assert codes == {200: 6}
    assert all(r.json()["write_status"] == "committed" for r in replies)
    assert present == 6
