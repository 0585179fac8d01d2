"""Fault suite: bad input on every CLI command and the MCP server is a clean error.

Each case runs the real command (in-process through Typer, the MCP server as a subprocess
on stdio) against a seeded SQLite store and checks: exit code 2, one ``error [code]: ...``
line and no traceback, and the store's every table byte-for-byte unchanged.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app
from tests.tools_support.processes import MEMLANE, ROOT, memlane_env

pytestmark = pytest.mark.integration

BAD_ID = "../x"
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 2000 + "1" + "}" * 2000
LONG = "word " * 7000  # 35,000 characters: over every text limit


def _cases(deep: Path, deep_object: Path) -> dict[str, list[str]]:
    u, f = "ana", "f-1"
    return {
        "profile bad user": ["profile", BAD_ID],
        "search bad user": ["search", BAD_ID, "q"],
        "why bad user": ["why", BAD_ID, f],
        "why bad fact": ["why", u, BAD_ID],
        "diff bad user": ["diff", BAD_ID, "2020-01-01"],
        "remember bad user": ["remember", "--", BAD_ID, "hi"],
        "correct bad user": ["correct", BAD_ID, f, "v"],
        "correct bad fact": ["correct", u, BAD_ID, "v"],
        "forget-fact bad user": ["forget-fact", BAD_ID, f],
        "forget-fact bad fact": ["forget-fact", u, BAD_ID],
        "facts bad user": ["facts", BAD_ID],
        "history bad user": ["history", BAD_ID, "user", "lives_in"],
        "forget bad user": ["forget", BAD_ID, "--yes"],
        "export bad user": ["export", BAD_ID],
        "recall bad user": ["recall", BAD_ID, "where"],
        "chat bad user": ["chat", BAD_ID],
        "chat bad session": ["chat", u, "--session", BAD_ID],
        "mcp bad user": ["mcp", BAD_ID],
        "ingest bad user": ["ingest", str(deep), "--user", BAD_ID],
        "ingest nested array": ["ingest", str(deep), "--user", u],
        "ingest nested object": ["ingest", str(deep_object), "--user", u],
        "ingest --extract nested": ["ingest", str(deep), "--user", u, "--extract"],
        "import nested array": ["import", str(deep)],
        "import nested object": ["import", str(deep_object)],
        "remember oversize": ["remember", u, LONG],
        "search oversize": ["search", u, LONG],
        "recall oversize": ["recall", u, LONG],
        "correct oversize": ["correct", u, f, LONG],
        "diff bad time": ["diff", u, "not a date"],
    }


def _snapshot(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "memory.db"
    for key, value in memlane_env(db).items():
        if key.startswith("MEMLANE_"):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("MEMLANE_API_KEY", raising=False)
    monkeypatch.delenv("MEMLANE_CHECKPOINT_DB", raising=False)
    result = CliRunner().invoke(app, ["remember", "ana", "My locker code is 4512"])
    assert result.exit_code == 0, result.output
    return db


def test_bad_input_on_every_cli_command_is_a_clean_error(seeded: Path, tmp_path: Path) -> None:
    deep = tmp_path / "deep.jsonl"
    deep.write_text(DEEP + "\n")
    deep_object = tmp_path / "deep_object.jsonl"
    deep_object.write_text(DEEP_OBJECT + "\n")
    before = _snapshot(seeded)
    runner = CliRunner()
    outcomes: dict[str, tuple[int, str]] = {}
    for name, args in _cases(deep, deep_object).items():
        result = runner.invoke(app, args, input="")
        lines = result.stderr.strip().splitlines() or [""]
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        outcomes[name] = (
            result.exit_code,
            "crash: " + repr(result.exception) if crashed else lines[-1],
        )
    clean = {n: o for n, o in outcomes.items() if o[0] == 2 and o[1].startswith("error [")}
    print(f"fault suite, bad CLI input: {len(clean)} of {len(outcomes)} clean (exit 2)")
    assert {n: o for n, o in outcomes.items() if n not in clean} == {}
    assert _snapshot(seeded) == before


def _mcp(env: dict[str, str], *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MEMLANE, "mcp", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bad_input_to_the_mcp_server_is_a_clean_error(seeded: Path) -> None:
    env = memlane_env(seeded)
    before = _snapshot(seeded)
    bad_user = _mcp(env, BAD_ID, stdin="")
    assert bad_user.returncode == 2
    assert bad_user.stderr.strip().splitlines() == [
        f"error [invalid_input]: USER: invalid user id {BAD_ID!r}: 1-128 letters, digits or "
        "_.:@#/- (starting with a letter or digit)"
    ]

    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "fault-suite", "version": "0"},
        },
    }
    call = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "memory_forget_fact", "arguments": {"fact_id": BAD_ID}},
    }
    lines = [
        json.dumps(hello),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        DEEP,  # nested past every parser's limit
        '{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": ' + DEEP_OBJECT + "}",
        json.dumps(call),
    ]
    session = _mcp(env, "ana", stdin="\n".join(lines) + "\n")
    assert "Traceback" not in session.stderr, session.stderr[-3000:]
    replies = [json.loads(line) for line in session.stdout.splitlines() if line.strip()]
    by_id = {r.get("id"): r for r in replies}
    assert "result" in by_id[1]
    forget = by_id[2]
    assert forget.get("result", {}).get("isError") or "error" in forget, forget
    print(f"fault suite, MCP: {len(replies)} replies, exit {session.returncode}")
    assert _snapshot(seeded) == before
