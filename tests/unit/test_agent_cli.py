"""`memlane chat` reads stdin line by line; `memlane ingest --extract` extracts from a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app

pytestmark = pytest.mark.unit


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MEMLANE_STORE", f"sqlite:///{tmp_path / 'm.db'}")
    monkeypatch.setenv("MEMLANE_EMBEDDER", "hash")
    monkeypatch.setenv("MEMLANE_MODEL", "memlane/offline")
    monkeypatch.setenv("MEMLANE_CHECKPOINT_DB", str(tmp_path / "threads.db"))
    return tmp_path


def test_chat_from_stdin(env: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["chat", "ana"], input="I live in Porto.\n\nWhere do I live?\n")
    assert out.exit_code == 0, out.output
    replies = [ln for ln in out.output.splitlines() if ln.startswith("assistant> ")]
    assert len(replies) == 2 and all("[memlane offline model]" in r for r in replies)
    assert "Porto" in replies[1]


def test_ingest_extract_runs_messages_through_extraction(env: Path) -> None:
    file = env / "chat.jsonl"
    rows = [
        {"content": "I live in Lisbon.", "occurred_at": "2023-01-01T10:00:00Z"},
        {"role": "assistant", "content": "Nice!", "occurred_at": "2023-01-01T10:00:01Z"},
        {"content": "I moved to Berlin last month.", "occurred_at": "2023-09-05T10:00:00Z"},
    ]
    file.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = CliRunner().invoke(app, ["ingest", str(file), "--extract", "--user", "ana", "--json"])
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)  # one IngestResult per user, as POST /ingest returns it
    assert row["llm_calls"] == 2 and row["facts_added"] == 2 and row["facts_closed"] == 1
    assert row["user_id"] == "ana" and len(row["reports"]) == row["batches"] == 2
    out = CliRunner().invoke(app, ["ingest", str(file), "--extract", "--batch", "2"])
    assert out.exit_code == 2 and "user_id" in out.output  # no --user, lines without user_id
    bad = env / "bad.jsonl"
    bad.write_text('{"content": "ok"}\n{"content": \n')
    out = CliRunner().invoke(app, ["ingest", str(bad), "--extract", "--user", "ana"])
    assert out.exit_code == 2 and "bad.jsonl:2" in out.output
    for args in (["--kind", "facts"], ["--batch", "3"]):
        extra = [] if "--batch" in args else ["--extract"]
        out = CliRunner().invoke(app, ["ingest", str(file), "--user", "ana", *extra, *args])
        assert out.exit_code == 2, out.output


def test_a_bad_setting_is_a_one_line_error_naming_the_variable(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMLANE_EMBED_PRECISION", "fp8")
    monkeypatch.setenv("MEMLANE_CONTEXT_TOKENS", "5")
    out = CliRunner().invoke(app, ["facts", "ana"])
    assert out.exit_code == 2 and out.exception is not None and "Traceback" not in out.output
    assert "MEMLANE_EMBED_PRECISION='fp8'" in out.output
    assert "MEMLANE_CONTEXT_TOKENS='5'" in out.output
