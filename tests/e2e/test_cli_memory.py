"""The memory commands end to end: ingest, facts as of, history, recall, export/import, forget."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app

pytestmark = pytest.mark.e2e

FACTS = [
    {
        "user_id": "ana",
        "predicate": "lives_in",
        "object": "Paris",
        "object_kind": "place",
        "valid_at": "2019-01-01",
        "statement": "Ana lives in Paris",
    },
    {
        "user_id": "ana",
        "predicate": "moved_to",
        "object": "Berlin",
        "object_kind": "place",
        "statement": "Ana moved to Berlin",
        "source": {
            "id": "src-1",
            "content": "I moved to Berlin last week",
            "occurred_at": "2022-06-08T09:00:00Z",
            "session_id": "s2",
        },
    },
    {
        "user_id": "ana",
        "predicate": "has_pet",
        "object": "Rex",
        "object_kind": "pet",
        "valid_at": "2021-03-01",
        "statement": "Ana has a dog called Rex",
    },
]
MESSAGES = [
    {
        "user_id": "ana",
        "session_id": "s1",
        "content": "I love hiking in the Alps",
        "occurred_at": "2020-05-01T10:00:00Z",
    },
    {
        "user_id": "ana",
        "session_id": "s1",
        "role": "assistant",
        "content": "Sounds lovely!",
        "occurred_at": "2020-05-01T10:00:05Z",
    },
]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MEMLANE_EMBEDDER", "hash")
    monkeypatch.setenv("MEMLANE_STORE", f"sqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == code, (args, result.output)
        return result.stdout if code == 0 else result.output

    return invoke


def test_memory_commands_end_to_end(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    facts_file = write_jsonl(tmp_path / "facts.jsonl", FACTS)
    msgs_file = write_jsonl(tmp_path / "messages.jsonl", MESSAGES)

    report = json.loads(cli("ingest", str(facts_file), "--json"))
    assert (report["kind"], report["facts_added"], report["facts_closed"]) == ("facts", 3, 1)
    report = json.loads(cli("ingest", str(msgs_file), "--kind", "messages", "--json"))
    assert (report["episodes_added"], report["episodes_skipped"]) == (2, 0)
    again = json.loads(cli("ingest", str(msgs_file), "--json"))
    assert (again["episodes_added"], again["episodes_skipped"]) == (0, 2)
    assert "facts added" in cli("ingest", str(facts_file))  # the table form

    # --json prints the tools' result models (the HTTP API's documents): facts under "facts".
    current = json.loads(cli("facts", "ana", "--json"))["facts"]
    assert {f["statement"] for f in current} == {"Ana moved to Berlin", "Ana has a dog called Rex"}
    then = json.loads(cli("facts", "ana", "--as-of", "2020-01-01", "--json"))["facts"]
    assert [f["statement"] for f in then] == ["Ana lives in Paris"]
    assert [f["object"] for f in then] == ["Paris"]
    assert "Paris" in cli("facts", "ana", "--all")  # the table form

    history = json.loads(cli("history", "ana", "user", "lives_in", "--json"))["facts"]
    assert [(h["statement"], h["status"]) for h in history] == [
        ("Ana lives in Paris", "ended"),
        ("Ana moved to Berlin", "current"),
    ]
    assert history[0]["invalid_at"] == "2022-06-08T09:00:00Z"

    ctx = json.loads(cli("recall", "ana", "Where does Ana live now?", "--json"))
    assert ctx["facts"][0]["fact"]["statement"] == "Ana moved to Berlin"
    assert "Berlin" in ctx["text"]
    past = json.loads(
        cli("recall", "ana", "Where did Ana live?", "--as-of", "2020-06-01", "--json")
    )
    assert "Ana lives in Paris" in [f["fact"]["statement"] for f in past["facts"]]
    assert "Berlin" in cli("recall", "ana", "where does ana live")
    # The batch form: one JSON line per query, in order, from one process.
    batch = tmp_path / "queries.txt"
    batch.write_text("Where does Ana live now?\n\nWhere did Ana live?\n", encoding="utf-8")
    lines = cli("recall", "ana", "--queries", str(batch), "--json").splitlines()
    assert [json.loads(line)["query"] for line in lines] == [
        "Where does Ana live now?",
        "Where did Ana live?",
    ]
    assert json.loads(lines[0])["facts"][0]["fact"]["statement"] == "Ana moved to Berlin"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    assert "holds no query" in cli("recall", "ana", "--queries", str(empty), code=2)
    assert "not both" in cli("recall", "ana", "hi", "--queries", str(batch), code=2)

    # export -> import into another store -> identical export
    exported = tmp_path / "ana.jsonl"
    cli("export", "ana", "-o", str(exported))
    lines = exported.read_text().splitlines()
    assert len(lines) == len(cli("export", "ana").splitlines()) > 0
    other = f"sqlite:///{tmp_path / 'other.db'}"
    counts = json.loads(cli("import", str(exported), "--store", other, "--json"))
    assert counts["facts"] == 3 and counts["episodes"] == 3
    assert cli("export", "ana", "--store", other).splitlines() == lines

    # forget needs confirmation; then nothing remains
    cli("forget", "ana", code=1)
    assert json.loads(cli("facts", "ana", "--json"))["facts"]
    deleted = json.loads(cli("forget", "ana", "--yes", "--json"))["deleted"]
    assert deleted["facts"] == 3
    assert json.loads(cli("facts", "ana", "--all", "--json"))["facts"] == []
    assert cli("export", "ana") == ""


def test_errors_exit_2_with_code_and_place(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(MESSAGES[0]) + "\n" + '{"user_id": "ana", "content": \n')
    out = cli("ingest", str(bad), code=2)
    assert f"error [invalid_input]: {bad}:2: malformed JSON" in out
    out = cli(
        "ingest", str(write_jsonl(tmp_path / "p.jsonl", [{**FACTS[0], "predicate": "x_y"}])), code=2
    )
    assert "error [unknown_predicate]" in out and "p.jsonl:1" in out
    assert "query is empty" in cli("recall", "ana", "  ", code=2)
    assert "as_of" in cli("facts", "ana", "--as-of", "someday", code=2)
    assert "invalid user id" in cli("facts", "no spaces please", code=2)
    assert "no entity named" in cli("history", "ana", "Nobody", "lives_in", code=2)
    assert "unknown store url scheme" in cli("facts", "ana", "--store", "mysql://x", code=2).lower()
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"type": "fact", "id": "f1"}\n\n{"type": "nope"}\n')
    out = cli("import", str(broken), code=2)
    assert "broken.jsonl:1" in out


def test_console_script_runs(tmp_path: Path) -> None:
    """The installed entry point, in a real process: an error is exit status 2 on stderr."""
    env = {
        **os.environ,
        "MEMLANE_EMBEDDER": "hash",
        "MEMLANE_STORE": f"sqlite:///{tmp_path / 'p.db'}",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "memlane.app.cli", "recall", "ana", ""],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if "No module named memlane.app.cli.__main__" in proc.stderr:
        exe = Path(sys.executable).with_name("memlane")
        proc = subprocess.run(
            [str(exe), "recall", "ana", ""],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 2, proc.stderr
    assert "error [invalid_input]" in proc.stderr
