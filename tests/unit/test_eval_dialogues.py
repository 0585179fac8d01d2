"""``memlane eval dialogues`` on a small dialogues file written for this test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app

pytestmark = pytest.mark.unit

DATA = {
    "about": "test",
    "format": "dialogues",
    "users": [
        {
            "user": "t-ines",
            "name": "Ines",
            "messages": [
                {"at": "2024-01-05T10:00:00Z", "text": "I live in Porto and work at Sonae."},
                {"at": "2024-02-10T09:00:00Z", "text": "what should I cook tonight?"},
                {"at": "2024-03-02T18:00:00Z", "text": "We moved to Braga on March 1!"},
            ],
            "facts": [
                {
                    "subject": "user",
                    "relation": "lives in",
                    "value": "Porto",
                    "from": None,
                    "to": "2024-03-01",
                    "source": 0,
                    "ended_by": 2,
                },
                {
                    "subject": "user",
                    "relation": "works at",
                    "value": "Sonae",
                    "from": None,
                    "to": None,
                    "source": 0,
                    "ended_by": None,
                },
                {
                    "subject": "user",
                    "relation": "lives in",
                    "value": "Braga",
                    "from": "2024-03-01",
                    "to": None,
                    "source": 2,
                    "ended_by": None,
                },
            ],
            "questions": [
                {
                    "q": "where does Ines live now?",
                    "as_of": None,
                    "expect": ["Braga"],
                    "not": ["Porto"],
                    "type": "current",
                },
                {
                    "q": "where did she live in February 2024?",
                    "as_of": "2024-02-15",
                    "expect": ["Porto"],
                    "not": [],
                    "type": "past",
                },
                {
                    "q": "what car does Ines drive?",
                    "as_of": None,
                    "expect": [],
                    "not": [],
                    "type": "abstain",
                },
            ],
        }
    ],
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(DATA))
    return path


def _run(*args: str) -> dict:
    result = CliRunner().invoke(app, ["eval", "dialogues", "--embedder", "hash", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_gold_run_keeps_time_right(data: Path, tmp_path: Path) -> None:
    out = _run("--data", str(data), "--gold", "--out", str(tmp_path / "r"))
    t = out["totals"]
    assert t["fact_recall"] == 1.0 and t["changes_handled"] == 1.0 and t["stale_kept_out"] == 1.0
    assert out["questions"]["current"] == {
        "right": 1,
        "n": 1,
        "rate": 1.0,
        "first": 1.0,
        "in_context": 1.0,
    }
    assert t["answer_first"] == 1.0 and t["answer_in_context"] == 1.0
    assert (tmp_path / "r" / "dialogues.md").exists() and (
        tmp_path / "r" / "dialogues.png"
    ).exists()


def test_agent_run_with_the_offline_model(data: Path, tmp_path: Path) -> None:
    out = _run("--data", str(data), "--out", str(tmp_path / "r"))
    assert out["mode"] == "agent" and out["llm"]["calls_per_turn"] > 0
    assert out["totals"]["identity_overwrites"] == 0
    turns = _run("--data", str(data), "--turns-only", "--out", str(tmp_path / "r"))
    assert turns["totals"]["fact_recall"] == 0.0
    page = (tmp_path / "r" / "dialogues.md").read_text()
    assert "## agent: per user" in page and "## turns: per user" in page


def test_a_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"users": [{"user": "x"}]}')
    result = CliRunner().invoke(app, ["eval", "dialogues", "--data", str(bad)])
    assert result.exit_code == 2 and "users[0]" in result.output


def test_an_agent_run_reaches_the_configured_endpoint_with_its_key(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The evaluation's agent uses the chat model's endpoint and key from the settings (it
    built a gateway from the model name alone, so a keyed local server got no key)."""
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MEMLANE_MODEL", "openai/local")
    monkeypatch.setenv("MEMLANE_CHAT__API_BASE", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("MEMLANE_CHAT__API_KEY", "sk-local")
    monkeypatch.setenv("MEMLANE_CHAT__MAX_RETRIES", "0")
    monkeypatch.setenv("MEMLANE_CHAT__TIMEOUT_S", "5")
    result = CliRunner().invoke(
        app, ["eval", "dialogues", "--embedder", "hash", "--json", "--data", str(data)]
    )
    assert "missing_key" not in result.output, result.output
    assert "unreachable" in result.output or "connection" in result.output.lower(), result.output
