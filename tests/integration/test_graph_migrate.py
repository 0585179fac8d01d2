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
from memlane.memory_graph.stores.threads import CheckpointRow, ThreadStore, WriteRow
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
        assert isinstance(store, ThreadStore)
        # Ties of ids across threads come in any order.
        return lines + sorted(repr(c) for c in await store.list_checkpoints(None, None))


async def _fill_threads(url: str) -> None:
    # Checkpoint ids repeat across threads (a page of the copy may end inside a tie), one
    # thread id is no user's, and bytes of every value travel.
    async with open_store(url) as store:
        assert isinstance(store, ThreadStore)
        for thread, owner in (("alice|s1", "alice"), ("bob|s1", "bob"), ("own-graph", None)):
            for n in (1, 2, 3):
                row = CheckpointRow(
                    thread, "", f"cp{n}", f"cp{n - 1}" if n > 1 else None, "msgpack",
                    bytes(range(256)) + thread.encode(), b'{"step": %d}' % n,
                )  # fmt: skip
                await store.put_checkpoint(owner, row, keep=10)
                write = WriteRow("task", "~p", 0, "history", "msgpack", b"\x00\xff%d" % n)
                await store.put_checkpoint_writes(
                    owner, thread, "", f"cp{n}", [write], replace=False
                )


def test_migrate_round_trip_is_byte_identical(
    graph_url: str, tmp_path: Path, sample: Sample
) -> None:
    first = f"sqlite:///{tmp_path / 'first.db'}"
    graph = graph_url
    back = f"sqlite:///{tmp_path / 'back.db'}"
    asyncio.run(_fill(first, sample))
    asyncio.run(_fill_threads(first))
    runner = CliRunner()

    there = runner.invoke(app, ["migrate", "--from", first, "--to", graph, "--batch", "7"])
    assert there.exit_code == 0, there.output
    assert "counts verified" in there.output
    home = runner.invoke(app, ["migrate", "--from", graph, "--to", back, "--json"])
    assert home.exit_code == 0, home.output
    report = json.loads(home.stdout.strip().splitlines()[-1])
    assert report["users"] == 2 and report["facts"] == 2 * 3 * 3 + 2
    assert report["threads"] == 3 and report["checkpoints"] == 9

    original = asyncio.run(_export(first))
    records = report["episodes"] + report["entities"] + report["facts"]
    assert len(original) == records + report["checkpoints"]
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
