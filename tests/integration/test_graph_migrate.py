"""``memlane migrate`` SQLite -> graph server -> SQLite gives byte-identical exports, and
``memlane doctor``, on FalkorDB and on Neo4j."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app
from memlane.memory_graph.model import WriteSet
from memlane.memory_graph.stores import open_store
from tests.conftest import Sample

pytestmark = pytest.mark.integration

# Per server: an unreachable URL with a password in it, and what doctor says about it.
UNREACHABLE = {
    "falkordb": ("falkordb://:secret@127.0.0.1:1/x", "cannot reach FalkorDB"),
    "neo4j": ("bolt://neo4j:secret@127.0.0.1:1", "cannot reach Neo4j"),
}


async def _fill(url: str, sample: Sample) -> None:
    async with open_store(url) as store:
        for user in ("alice", "bob"):
            for n in range(1, 4):
                await store.apply(sample.turn(user, n))
        closed = sample.fact(
            "alice",
            "f_old",
            'Lived in "Zürich" \\ with a line\nbreak 😀',
            predicate="lives_in",
            value="Zürich",
            valid=-300,
            invalid=1,
            recorded=0,
            expired=1,
            episodes=("ep1",),
        )
        retracted = sample.fact("alice", "f_oops", "A mistaken fact", recorded=2, expired=2.5)
        me = sample.entity("alice", "self", "Alice", kind="self", aliases=("Al", "Ally"))
        await store.apply(
            WriteSet(
                "alice",
                entities=[me],
                facts=[closed, retracted],
                fact_vectors={"f_old": sample.vec(closed.statement)},
            )
        )


async def _export(url: str) -> list[str]:
    async with open_store(url) as store:
        lines = []
        for user in await store.users():
            lines += [json.dumps(r, ensure_ascii=False) async for r in store.export(user)]
        return lines


def test_migrate_round_trip_is_byte_identical(
    graph_url: str, tmp_path: Path, sample: Sample
) -> None:
    first = f"sqlite:///{tmp_path / 'first.db'}"
    graph = graph_url
    back = f"sqlite:///{tmp_path / 'back.db'}"
    asyncio.run(_fill(first, sample))
    runner = CliRunner()

    there = runner.invoke(app, ["migrate", "--from", first, "--to", graph, "--batch", "7"])
    assert there.exit_code == 0, there.output
    assert "counts verified" in there.output
    home = runner.invoke(app, ["migrate", "--from", graph, "--to", back, "--json"])
    assert home.exit_code == 0, home.output
    report = json.loads(home.stdout.strip().splitlines()[-1])
    assert report["users"] == 2 and report["facts"] == 2 * 3 * 3 + 2

    original = asyncio.run(_export(first))
    assert len(original) == report["episodes"] + report["entities"] + report["facts"]
    assert asyncio.run(_export(graph)) == original
    assert asyncio.run(_export(back)) == original

    # The target now holds those users: a second copy is refused and changes nothing.
    again = runner.invoke(app, ["migrate", "--from", first, "--to", graph])
    assert again.exit_code == 2
    assert "already holds user" in again.output
    assert asyncio.run(_export(graph)) == original


def test_doctor_reports_a_healthy_graph_and_an_unreachable_one(graph_url: str) -> None:
    backend = graph_url.split(":")[0].replace("bolt", "neo4j")
    runner = CliRunner()
    good = runner.invoke(app, ["doctor", "--store", graph_url, "--json"])
    assert good.exit_code == 0, good.output
    report = json.loads(good.stdout)
    assert report["ok"] and report["backend"] == backend
    assert any("fulltext Fact(search_text)" in i for i in report["details"]["indexes"])
    assert "memlane-test" not in good.output  # the password of the test servers

    url, message = UNREACHABLE[backend]
    bad = runner.invoke(app, ["doctor", "--store", url, "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert not report["ok"] and message in report["problems"][0]
    assert "secret" not in bad.output
