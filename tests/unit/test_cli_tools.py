"""The inspection and correction commands, run through the Typer app on a SQLite store."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store
from tests.tools_support.seed import seed_user

pytestmark = pytest.mark.unit


@pytest.fixture
def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, str]]:
    monkeypatch.setenv("MEMLANE_EMBEDDER", "hash")
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> dict[str, str]:
        async with open_store(url) as store:
            return await seed_user(Memory(store, HashEmbedder()), "alice")

    return url, asyncio.run(seed())


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_profile_table_and_json(seeded: tuple[str, dict[str, str]]) -> None:
    url, _ = seeded
    code, out, _ = _run("profile", "alice", "--store", url)
    assert code == 0 and "I live in Berlin" in out and "preference" in out
    code, out, _ = _run("profile", "alice", "--as-of", "2023-07-01", "--store", url, "--json")
    data = json.loads(out)
    assert {f["object"] for f in data["facts"]["fact"]} == {"Paris", "Acme", "Rex"}


def test_why_and_diff(seeded: tuple[str, dict[str, str]]) -> None:
    url, ids = seeded
    code, out, _ = _run("why", "alice", ids["lives_in:Berlin"], "--store", url)
    assert code == 0 and "I just moved to Berlin" in out and "it replaced" in out
    code, out, _ = _run("diff", "alice", "2024-01-01", "2024-12-31", "--store", url, "--json")
    data = json.loads(out)
    assert [f["object"] for f in data["started"]] == ["Berlin"]


def test_remember_correct_forget_fact(seeded: tuple[str, dict[str, str]]) -> None:
    url, ids = seeded
    code, out, _ = _run("remember", "alice", "My bike is blue", "--store", url, "--json")
    note = json.loads(out)["fact"]["id"]
    code, out, _ = _run("correct", "alice", ids["works_at:Acme"], "Globex", "--store", url)
    assert code == 0 and "retracted" in out and "Globex" in out
    code, out, _ = _run("forget-fact", "alice", note, "--store", url, "--json")
    assert json.loads(out)["deleted"] == {"facts": 1}
    code, out, err = _run("forget-fact", "alice", note, "--store", url)
    assert code == 2 and "not_found" in err


def test_errors_exit_2_with_a_message(seeded: tuple[str, dict[str, str]]) -> None:
    url, _ = seeded
    code, _, err = _run("diff", "alice", "whenever", "--store", url)
    assert code == 2 and "invalid_input" in err and "since" in err


async def test_cli_json_is_the_http_document(tmp_path: Path) -> None:
    """One shape per operation: `--json` prints what the HTTP API returns for the same call."""
    from tests.tools_support.app import served

    url = f"sqlite:///{tmp_path / 'server.db'}"

    async def cli(*args: str) -> str:
        code, out, err = await asyncio.to_thread(_run, *args, "--store", url)
        assert code == 0, err
        return out

    async with served(tmp_path) as (client, memory):
        await seed_user(memory, "alice")
        pairs = [
            (("facts", "alice", "--json"), "/users/alice/facts", {}),
            (
                ("facts", "alice", "--all", "--predicate", "lives_in", "--json"),
                "/users/alice/facts",
                {"include_ended": "true", "predicate": "lives_in"},
            ),
            (
                ("facts", "alice", "--as-of", "2023-07-01", "--json"),
                "/users/alice/facts",
                {"as_of": "2023-07-01"},
            ),
            (
                ("history", "alice", "user", "lives_in", "--json"),
                "/users/alice/history",
                {"subject": "user", "predicate": "lives_in"},
            ),
        ]
        for args, route, params in pairs:
            r = await client.get(route, params=params)
            assert r.status_code == 200
            assert json.loads(await cli(*args)) == r.json(), args
        everything = json.loads(await cli("facts", "alice", "--all", "--json"))
        assert {f["status"] for f in everything["facts"]} == {"current", "ended"}

        r = await client.get("/users/alice/export")
        assert await cli("export", "alice") == r.text != ""

        gone = json.loads(await cli("forget", "alice", "--yes", "--json"))
        assert gone["user_id"] == "alice" and gone["deleted"]["facts"] == 5
        r = await client.delete("/users/alice")
        assert r.json() == {**gone, "deleted": {k: 0 for k in gone["deleted"]}}
