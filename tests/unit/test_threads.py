"""Chat threads live in the SQLite store's file: forget deletes them, old checkpoints go.

Real components throughout (the store and its thread tables, the agent's one checkpointer,
the offline model; LangGraph's stock SQLite saver for files written before migration 0012);
the assertions read the database file and its tables directly.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memlane.agent.api import MemoryAgent
from memlane.agent.settings import Settings
from memlane.agent.threads import thread_id, thread_owner_prefix
from memlane.memory_graph.errors import InputError
from memlane.tools import commands

pytestmark = pytest.mark.unit

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
SECRET = "Zorblax"  # a word that appears nowhere but in maya's messages


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(store=f"sqlite:///{tmp_path / 'memory.db'}", embedder="hash", **kw)


def _rows(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def scan_files(folder: Path, needles: list[bytes]) -> dict[str, list[str]]:
    """Every file under ``folder`` that holds any of ``needles`` (bytes), by needle."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                if needle in data:
                    found.setdefault(needle.decode(), []).append(path.name)
    return found


async def test_threads_are_kept_in_the_store_file_and_forget_deletes_them(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with MemoryAgent(settings=settings) as agent:
        for i, text in enumerate(
            [f"My cat is called {SECRET}.", f"I live in {SECRET}ville.", "I love sushi."]
        ):
            result = await agent.achat("maya", text, session_id="s1", at=T0 + timedelta(days=i))
            assert result.write_status == "committed"
        await agent.achat("noor", "I live in Porto.", at=T0)
        db = (await agent.memory()).store.path  # type: ignore[attr-defined]
        threads = {r[0] for r in _rows(db, "SELECT thread_id FROM thread_checkpoints")}
        assert threads == {"maya|s1", "noor|default"}
        assert not list(tmp_path.glob("*.threads.db"))  # no file beside the store
        assert scan_files(tmp_path, [SECRET.encode()])  # the scan below can see the text

        deleted = await commands.forget(await agent.memory(), "maya", everything=True)
        assert deleted.deleted["checkpoints"] > 0

    # Closed: every file of the store, byte by byte, and every table that has a thread id.
    assert scan_files(tmp_path, [SECRET.encode(), b"maya|"]) == {}
    for table in ("thread_checkpoints", "thread_writes"):
        assert _rows(db, f"SELECT count(*) FROM {table} WHERE thread_id LIKE 'maya%'") == [(0,)]
    assert _rows(db, "SELECT DISTINCT thread_id FROM thread_checkpoints") == [("noor|default",)]

    # Resuming maya's session starts empty: the forgotten text is not put back in a prompt.
    async with MemoryAgent(settings=settings) as agent:
        await agent.achat("maya", "What is my cat called?", session_id="s1", at=T0)
    assert scan_files(tmp_path, [SECRET.encode()]) == {}


async def test_old_checkpoints_are_pruned_and_history_is_bounded(tmp_path: Path) -> None:
    settings = _settings(tmp_path, thread_history=6, thread_checkpoints=2)
    async with MemoryAgent(settings=settings) as agent:
        for i in range(8):
            await agent.achat("maya", f"Message number {i}.", at=T0 + timedelta(hours=i))
        saver = agent._res.saver  # type: ignore[union-attr]
        state = await saver.aget_tuple({"configurable": {"thread_id": "maya|default"}})
        db = (await agent.memory()).store.path  # type: ignore[attr-defined]
    assert state is not None
    history = state.checkpoint["channel_values"]["history"]
    assert [m["content"] for m in history if m["role"] == "user"] == [
        "Message number 5.",
        "Message number 6.",
        "Message number 7.",
    ]
    assert _rows(db, "SELECT count(*) FROM thread_checkpoints") == [(2,)]


def test_thread_ids_name_their_owner_unambiguously() -> None:
    # "/" may be in a user id, so "a/b"'s threads must not look like user "a"'s.
    assert thread_id("a/b", "s") == "a/b|s"
    assert not thread_id("a/b", None).startswith(thread_owner_prefix("a"))
    with pytest.raises(InputError):
        thread_id("maya", "../x y")


async def test_threads_in_a_file_of_their_own_are_forgotten_too(tmp_path: Path) -> None:
    threads = tmp_path / "elsewhere" / "threads.db"
    settings = _settings(tmp_path, checkpoint_db=str(threads))
    async with MemoryAgent(settings=settings) as agent:
        await agent.achat("maya", f"My cat is called {SECRET}.", at=T0)
        await agent.achat("noor", "I live in Porto.", at=T0)
        assert scan_files(threads.parent, [SECRET.encode()])
        await commands.forget(await agent.memory(), "maya", everything=True)
        assert await agent.forget_threads("maya") > 0
    assert scan_files(tmp_path, [SECRET.encode(), b"maya|"]) == {}
    assert _rows(threads, "SELECT DISTINCT thread_id FROM thread_checkpoints") == [
        ("noor|default",)
    ]


async def test_threads_langgraphs_saver_wrote_into_the_store_file_are_adopted(
    tmp_path: Path,
) -> None:
    # A store file from before migration 0012: the memory schema up to 0011, and the threads
    # in LangGraph's own tables, written by its stock saver through the real agent loop.
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    from memlane.memory_graph.stores.sqlite.migrations import MIGRATIONS, migrate

    db = tmp_path / "memory.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        migrate(conn, MIGRATIONS[: [m.name for m in MIGRATIONS].index("0012_thread_state")])
    memory = Settings(store=f"sqlite:///{tmp_path / 'elsewhere' / 'm.db'}", embedder="hash")
    async with aiosqlite.connect(str(db)) as conn:
        saver = AsyncSqliteSaver(conn)
        async with MemoryAgent(settings=memory, checkpointer=saver) as agent:
            await agent.achat("maya", f"My cat is called {SECRET}.", session_id="s1", at=T0)
            await agent.achat("noor", "I live in Porto.", at=T0)
    assert _rows(db, "SELECT count(*) FROM checkpoints WHERE thread_id = 'maya|s1'") != [(0,)]

    settings = _settings(tmp_path)
    async with MemoryAgent(settings=settings) as agent:
        # Opening the store moved them into its tables and dropped LangGraph's.
        tables = {r[0] for r in _rows(db, "SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"checkpoints", "writes"}.isdisjoint(tables)
        owners = _rows(db, "SELECT DISTINCT user_id, thread_id FROM thread_checkpoints")
        assert sorted(owners) == [("maya", "maya|s1"), ("noor", "noor|default")]
        # The session resumes where the stock saver left it.
        await agent.achat("maya", "I love sushi.", session_id="s1", at=T0 + timedelta(hours=1))
        saver = agent._res.saver  # type: ignore[union-attr]
        state = await saver.aget_tuple({"configurable": {"thread_id": "maya|s1"}})
        assert state is not None
        said = [m["content"] for m in state.checkpoint["channel_values"]["history"]]
        assert said[0] == f"My cat is called {SECRET}." and "I love sushi." in said
        deleted = await commands.forget(await agent.memory(), "maya", everything=True)
        assert deleted.deleted["checkpoints"] > 0
    found = scan_files(tmp_path, [SECRET.encode(), b"maya|"])
    assert {name for names in found.values() for name in names} <= {"m.db", "m.db-wal"}
    assert _rows(db, "SELECT DISTINCT thread_id FROM thread_checkpoints") == [("noor|default",)]


def test_migrate_copies_the_threads_and_the_session_resumes_in_the_target(
    tmp_path: Path,
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from memlane.app.cli import app

    source, target = _settings(tmp_path), _settings(tmp_path / "target")

    async def before() -> None:
        async with MemoryAgent(settings=source) as agent:
            await agent.achat("maya", f"My cat is called {SECRET}.", session_id="s1", at=T0)
            await agent.achat("noor", "I live in Porto.", at=T0)

    async def after() -> list[str]:
        async with MemoryAgent(settings=target) as agent:
            await agent.achat("maya", "I love sushi.", session_id="s1", at=T0 + timedelta(hours=1))
            saver = agent._res.saver  # type: ignore[union-attr]
            state = await saver.aget_tuple({"configurable": {"thread_id": "maya|s1"}})
        assert state is not None
        return [m["content"] for m in state.checkpoint["channel_values"]["history"]]

    asyncio.run(before())
    # --batch 1: one checkpoint a page (ties of ids across threads: test_graph_migrate.py).
    args = ["migrate", "--from", source.store, "--to", target.store, "--batch", "1", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["threads"] == 2 and report["checkpoints"] == 4  # 2 kept per thread

    said = asyncio.run(after())
    assert said[0] == f"My cat is called {SECRET}." and said[-2] == "I love sushi."
    db = tmp_path / "target" / "memory.db"
    owners = _rows(db, "SELECT DISTINCT user_id FROM thread_checkpoints ORDER BY 1")
    assert owners == [("maya",), ("noor",)]  # so forget in the target finds them


async def test_checkpoints_written_through_the_store_keep_its_caches(tmp_path: Path) -> None:
    # The store's decoded-record and vector caches are dropped whenever another connection
    # commits to the file (PRAGMA data_version). Checkpoints written through the store's own
    # connection are not another connection: a turn's checkpoints leave its caches alone. A
    # saver on a second connection to the file (as LangGraph's SQLite saver was) is the
    # baseline: each of its turns dropped them.
    from memlane.agent.threads import StoreCheckpointSaver
    from memlane.memory_graph.stores.sqlite import SQLiteStore

    async def clears(second_connection: bool) -> int:
        folder = tmp_path / ("second" if second_connection else "own")
        settings = _settings(folder)
        other = SQLiteStore(folder / "memory.db") if second_connection else None
        if other is not None:
            await other.open()
        saver = StoreCheckpointSaver(other) if other is not None else None
        async with MemoryAgent(settings=settings, checkpointer=saver) as agent:
            store = (await agent.memory()).store
            assert isinstance(store, SQLiteStore)
            dropped = 0

            def count(clear: object) -> object:
                def counted() -> None:
                    nonlocal dropped
                    dropped += 1
                    clear()  # type: ignore[operator]

                return counted

            store._records.clear = count(store._records.clear)  # type: ignore[method-assign]
            for i in range(3):
                await agent.achat("maya", f"I live in Porto, note {i}.", at=T0 + timedelta(i))
            during_turns = dropped  # closing clears them too
        if other is not None:
            await other.close()
        return during_turns

    second, own = await clears(second_connection=True), await clears(second_connection=False)
    print(f"cache drops in 3 turns: saver on a second connection {second}, the store's {own}")
    assert second >= 3  # the baseline: at least once a turn
    assert own == 0
