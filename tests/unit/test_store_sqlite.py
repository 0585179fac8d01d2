"""The SQLite backend beyond the contract: migrations, URLs, vector cache, forgetting bytes."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memlane.memory_graph.errors import ConflictError, InputError, StoreError
from memlane.memory_graph.model import Fact, FactQuery, WriteSet
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.stores._text import query_terms
from memlane.memory_graph.stores.sqlite import SQLiteStore
from memlane.memory_graph.stores.sqlite import _sql as q
from memlane.memory_graph.stores.sqlite.migrations import (
    MIGRATIONS,
    Migration,
    applied_migrations,
    migrate,
)
from tests.conftest import Sample, days

pytestmark = pytest.mark.unit


def connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


# -- migrations ---------------------------------------------------------------------------------
def test_migrations_run_once_in_order(tmp_path: Path) -> None:
    conn = connect(tmp_path / "m.db")
    names = [m.name for m in MIGRATIONS]
    assert migrate(conn) == names
    assert migrate(conn) == []
    assert applied_migrations(conn) == names
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(names)


def test_a_new_migration_is_applied_once(tmp_path: Path) -> None:
    conn = connect(tmp_path / "m.db")
    migrate(conn)
    extra = (*MIGRATIONS, Migration("0099_notes", ("CREATE TABLE notes (x TEXT)",)))
    assert migrate(conn, extra) == ["0099_notes"]
    assert migrate(conn, extra) == []
    assert applied_migrations(conn)[-1] == "0099_notes"


def test_a_failing_migration_leaves_no_trace(tmp_path: Path) -> None:
    conn = connect(tmp_path / "m.db")
    migrate(conn)
    broken = (*MIGRATIONS, Migration("0099_broken", ("CREATE TABLE half (x)", "NOT SQL")))
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert "0099_broken" not in applied_migrations(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables


async def test_reopening_a_store_is_a_no_op(tmp_path: Path, sample: Sample) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'memory.db'}"  # parent dirs are created
    async with open_store(url) as store:
        await store.apply(sample.turn("alice", 1))
        await store.open()  # idempotent while open
    for _ in range(2):
        async with open_store(url) as store:
            info = await store.info()
            assert info.ok
            assert info.details["migrations"] == [m.name for m in MIGRATIONS]
            assert info.details["schema_version"] == len(MIGRATIONS)
            assert info.details["fts"] == {
                "fact_fts": True,
                "episode_fts": True,
                "entity_fts": True,
            }
            assert await store.counts("alice") == {"episodes": 1, "entities": 1, "facts": 3}
    await store.close()  # closing twice is fine


# -- URLs -------------------------------------------------------------------------------------
def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(absolute, SQLiteStore) and absolute.path == tmp_path / "x.db"
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///data/x.db")
    assert isinstance(relative, SQLiteStore) and relative.path == Path("data/x.db")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("redis://localhost/0", "'redis'"),
        ("postgres://x", "sqlite://"),
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite://relative.db", "sqlite:///PATH"),
        ("/just/a/path.db", "(none)"),
    ],
)
def test_bad_urls_name_the_problem(url: str, words: str) -> None:
    with pytest.raises(InputError) as err:
        open_store(url)
    assert words in str(err.value)


# -- vector cache -----------------------------------------------------------------------------
def unit(i: int, dim: int = 64) -> np.ndarray:
    return np.eye(dim, dtype=np.float32)[i]


async def test_vector_cache_follows_deletes_and_forget(tmp_path: Path, sample: Sample) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'v.db'}") as store:
        facts = [sample.fact("alice", f"f{i}", f"fact {i}") for i in range(3)]
        vectors = {f"f{i}": unit(i) for i in range(3)}
        await store.apply(WriteSet("alice", facts=facts, fact_vectors=vectors))
        assert (await store.search_vector("alice", "fact", unit(1), 1))[0].id == "f1"
        await store.delete_facts("alice", ["f1"])
        assert "f1" not in {h.id for h in await store.search_vector("alice", "fact", unit(1), 3)}
        # an upsert of a fact keeps its vector
        await store.apply(WriteSet("alice", facts=[facts[2].model_copy(update={"value": "x"})]))
        assert (await store.search_vector("alice", "fact", unit(2), 1))[0].id == "f2"
        await store.forget_user("alice")
        assert await store.search_vector("alice", "fact", unit(2), 3) == []


async def test_vector_cache_sees_writes_of_another_connection(
    tmp_path: Path, sample: Sample
) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    async with open_store(url) as reader, open_store(url) as writer:
        await writer.apply(
            WriteSet("alice", facts=[sample.fact("alice", "f0", "a")], fact_vectors={"f0": unit(0)})
        )
        assert [h.id for h in await reader.search_vector("alice", "fact", unit(5), 5)] == ["f0"]
        await writer.apply(
            WriteSet("alice", facts=[sample.fact("alice", "f5", "b")], fact_vectors={"f5": unit(5)})
        )
        assert (await reader.search_vector("alice", "fact", unit(5), 1))[0].id == "f5"
        await writer.delete_facts("alice", ["f5"])
        assert [h.id for h in await reader.search_vector("alice", "fact", unit(5), 5)] == ["f0"]


async def test_vectors_of_another_dimension_are_not_mixed(tmp_path: Path, sample: Sample) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'v.db'}") as store:
        facts = [sample.fact("alice", f"f{i}", f"fact {i}") for i in range(2)]
        await store.apply(
            WriteSet("alice", facts=facts, fact_vectors={"f0": unit(0), "f1": unit(0, dim=32)})
        )
        assert [h.id for h in await store.search_vector("alice", "fact", unit(0), 5)] == ["f0"]
        assert [h.id for h in await store.search_vector("alice", "fact", unit(0, 32), 5)] == ["f1"]
        # f0 re-embedded at 32 dimensions leaves the 64-d matrix
        await store.apply(WriteSet("alice", fact_vectors={"f0": unit(1, dim=32)}))
        assert await store.search_vector("alice", "fact", unit(0), 5) == []
        hits = await store.search_vector("alice", "fact", unit(1, 32), 5)
        assert [h.id for h in hits] == ["f0", "f1"]


# -- record cache: a decoded record is handed out again only while its row is unchanged -----
async def _reads(store: Any, user: str) -> dict[str, Any]:
    """What each cached read path returns for ``user`` (by id, by filter, by session)."""
    return {
        "facts": await store.get_facts(user, ["f0", "f1"]),
        "current": await store.find_facts(user, FactQuery(current_only=True)),
        "episodes": await store.get_episodes(user, ["e0"]),
        "session": await store.episodes_in_session(user, "s1"),
        "entities": await store.get_entities(user, ["p0"]),
        "named": await store.find_entities(user, ["Ada"]),
    }


async def test_reads_follow_every_write_of_this_store(tmp_path: Path, sample: Sample) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        f0, f1 = (sample.fact("alice", f"f{i}", f"fact {i}") for i in range(2))
        e0 = sample.episode("alice", "e0", "first words")
        p0 = sample.entity("alice", "p0", "Ada", kind="person")
        await store.apply(WriteSet("alice", facts=[f0, f1], episodes=[e0], entities=[p0]))
        before = await _reads(store, "alice")  # now decoded and cached
        assert [f.id for f in before["current"]] == ["f0", "f1"]
        ended = f0.model_copy(update={"invalid_at": days(3)})
        renamed = p0.model_copy(update={"name": "Ada Lovelace", "aliases": ("Ada",)})
        await store.apply(WriteSet("alice", facts=[ended], entities=[renamed]))
        after = await _reads(store, "alice")
        assert after["facts"][0].invalid_at == days(3)
        assert [f.id for f in after["current"]] == ["f1"]
        assert after["entities"][0].name == after["named"][0].name == "Ada Lovelace"
        await store.delete_facts("alice", ["f1"])
        assert [f.id for f in await store.get_facts("alice", ["f0", "f1"])] == ["f0"]
        await store.forget_user("alice")
        assert all(found == [] for found in (await _reads(store, "alice")).values())


async def test_a_refused_write_leaves_reads_as_they_were(tmp_path: Path, sample: Sample) -> None:
    async with open_store(f"sqlite:///{tmp_path / 'r.db'}") as store:
        f0 = sample.fact("alice", "f0", "fact 0")
        await store.apply(WriteSet("alice", facts=[f0]))
        version = await store.write_version("alice")
        await store.apply(WriteSet("alice", facts=[sample.fact("alice", "f1", "fact 1")]))
        await store.get_facts("alice", ["f0"])
        stale = WriteSet(
            "alice", facts=[f0.model_copy(update={"invalid_at": days(3)})], if_version=version
        )
        with pytest.raises(ConflictError, match="changed while this write was prepared"):
            await store.apply(stale)
        assert (await store.get_facts("alice", ["f0"]))[0].invalid_at is None


async def test_reads_see_writes_of_another_connection(tmp_path: Path, sample: Sample) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    async with open_store(url) as reader, open_store(url) as writer:
        f0 = sample.fact("alice", "f0", "fact 0")
        e0 = sample.episode("alice", "e0", "first words")
        p0 = sample.entity("alice", "p0", "Ada", kind="person")
        await writer.apply(WriteSet("alice", facts=[f0], episodes=[e0], entities=[p0]))
        assert (await _reads(reader, "alice"))["facts"][0].invalid_at is None
        await writer.apply(
            WriteSet(
                "alice",
                facts=[f0.model_copy(update={"invalid_at": days(3)})],
                entities=[p0.model_copy(update={"name": "Ada Byron", "aliases": ("Ada",)})],
            )
        )
        after = await _reads(reader, "alice")
        assert after["facts"][0].invalid_at == days(3)
        assert after["current"] == []
        assert after["named"][0].name == "Ada Byron"
        await writer.forget_user("alice")
        assert all(found == [] for found in (await _reads(reader, "alice")).values())


def test_the_record_cache_keeps_the_most_recently_used() -> None:
    from memlane.memory_graph.stores.sqlite._records import RecordCache

    cache = RecordCache(max_records=2)
    decoded: list[str] = []

    def conv(row: tuple[str, str]) -> Any:
        decoded.append(row[0])
        return row

    for rid in ("a", "b", "a", "c", "a", "b"):
        cache.decode("fact", (rid, "alice"), conv)
    # "b" fell out when "c" came (the least recently used), and was decoded again.
    assert decoded == ["a", "b", "c", "b"]
    assert set(cache.get("fact", "alice", ["a", "b", "c"])) == {"a", "b"}
    cache.evict("fact", "alice", ["a"])
    cache.drop_user("bob")
    assert set(cache.get("fact", "alice", ["a", "b"])) == {"b"}


# -- forgetting -------------------------------------------------------------------------------
async def test_forget_leaves_no_trace_in_tables_or_file(tmp_path: Path, sample: Sample) -> None:
    db = tmp_path / "f.db"
    secret = "Xylophonist"
    async with open_store(f"sqlite:///{db}") as store:
        for n in range(20):
            await store.apply(sample.turn("bob", n))
        writes = sample.turn("alice-secret-user", 1)
        writes.facts.append(
            sample.fact("alice-secret-user", "s1", f"The user is a {secret}", value=secret)
        )
        writes.entities.append(
            sample.entity("alice-secret-user", "s2", secret, aliases=(f"{secret}s",))
        )
        writes.episodes.append(sample.episode("alice-secret-user", "s3", f"I'm a {secret}!"))
        await store.apply(writes)
        await store.forget_user("alice-secret-user")
        assert await store.users() == ["bob"]

    conn = sqlite3.connect(db)
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r[0].startswith("sqlite_")
    ]
    for table in tables:
        for row in conn.execute(f"SELECT * FROM {table}"):
            text = repr(row).lower()
            assert "alice-secret-user" not in text and secret.lower() not in text, table
    for fts in ("fact_fts", "episode_fts", "entity_fts"):
        hits = conn.execute(f"SELECT rowid FROM {fts} WHERE {fts} MATCH ?", (secret,)).fetchall()
        assert hits == [], fts
    conn.close()
    for path in db.parent.iterdir():
        if path.name.startswith(db.name):
            data = path.read_bytes().lower()
            assert b"alice-secret-user" not in data, path.name
            assert secret.lower().encode() not in data, path.name


# -- query terms --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Where does the user live?", ["user", "live"]),
        ('"paris" AND (lyon OR nice*) NOT: -x', ["paris", "lyon", "nice", "x"]),
        ("the and or", ["the", "and", "or"]),
        ("Zoë's café, Zürich", ["zoë", "s", "café", "zürich"]),
        ("snake_case start-up", ["snake", "case", "start"]),  # "up" is a stopword
        ("", []),
        ('*:"()', []),
        ("a a A", ["a"]),
    ],
)
def test_query_terms(text: str, terms: list[str]) -> None:
    assert query_terms(text) == terms


def test_query_terms_are_capped() -> None:
    assert len(query_terms(" ".join(f"w{i}" for i in range(500)))) == 32


async def test_upgrading_an_old_schema_keeps_data_searchable(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    conn = connect(db)
    migrate(conn, MIGRATIONS[:3])  # a file made before the per-user full-text tables
    conn.execute(
        "INSERT INTO facts (user_id, id, subject_id, predicate, statement, kind, polarity,"
        " confidence, recorded_at) VALUES ('alice', 'f1', 'self', 'likes', 'The user likes"
        " tango', 'fact', 'positive', 1.0, 0)"
    )
    conn.close()
    async with open_store(f"sqlite:///{db}") as store:
        assert [h.id for h in await store.search_text("alice", "fact", "tango", 5)] == ["f1"]
        assert (await store.info()).details["migrations"] == [m.name for m in MIGRATIONS]


# -- per-user full-text statistics --------------------------------------------------------------
TABLES = (("fact", "facts"), ("episode", "episodes"), ("entity", "entities"))


def _stats(db: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """text_stats as stored, and as recounted from the records: they must agree."""
    conn = connect(db)
    try:
        stored = {
            (u, t): (d, w)
            for u, t, d, w in conn.execute("SELECT user_id, target, docs, words FROM text_stats")
            if d
        }
        counted = {
            (u, target): (d, w)
            for target, table in (
                ("fact", "facts"),
                ("episode", "episodes"),
                ("entity", "entities"),
            )
            for u, d, w in conn.execute(
                f"SELECT user_id, count(*), sum(search_len) FROM {table} GROUP BY user_id"
            )
        }
        assert stored == counted
        return stored
    finally:
        conn.close()


async def test_text_stats_follow_every_kind_of_write(tmp_path: Path, sample: Sample) -> None:
    db = tmp_path / "s.db"
    async with open_store(f"sqlite:///{db}") as store:
        await store.apply(sample.turn("alice", 1))
        await store.apply(sample.turn("bob", 1))
        assert _stats(db)[("alice", "fact")] == (3, 3 * 7)  # "the user visit place 1 note 0"
        longer = sample.fact("alice", "f1_0", "The user visited place 1 twice, in May")
        await store.apply(WriteSet("alice", facts=[longer]))  # an upsert
        again = sample.episode("alice", "ep1", "other words entirely, and more of them")
        await store.apply(WriteSet("alice", episodes=[again]))  # insert-if-absent: no change
        assert _stats(db)[("alice", "fact")] == (3, 2 * 7 + 8)
        assert await store.delete_facts("alice", ["f1_1"]) == 1
        assert _stats(db)[("alice", "fact")] == (2, 7 + 8)
        await store.forget_user("bob")
        assert {u for u, _ in _stats(db)} == {"alice"}


async def test_upgrading_computes_search_words_and_per_user_stats(
    tmp_path: Path, sample: Sample
) -> None:
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    writes = [sample.turn(user, n) for user in ("alice", "bob") for n in range(3)]
    writes.append(
        WriteSet("alice", entities=[sample.entity("alice", "z", "Zoë", aliases=("Zozo", "Z"))])
    )
    conn = connect(old)
    migrate(conn, MIGRATIONS[:6])  # a file made before per-user statistics
    for ws in writes:  # rows as that version wrote them: without the search columns
        for table, cols, rows in (
            ("episodes", q.EPISODE_COLS, [q.episode_params(e)[:-2] for e in ws.episodes]),
            ("entities", q.ENTITY_COLS, [q.entity_params(e)[:-2] for e in ws.entities]),
            # ... and without start_precision (0008), the last fact column
            (
                "facts",
                q.FACT_COLS.removesuffix(", start_precision"),
                [q.fact_params(f)[:-3] for f in ws.facts],
            ),
        ):
            marks = ", ".join("?" * cols.count(",")) + ", ?"
            conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
    conn.close()
    async with open_store(f"sqlite:///{old}") as upgraded, open_store(f"sqlite:///{new}") as fresh:
        for ws in writes:
            await fresh.apply(ws)
        for target, text in (("fact", "visited place 1"), ("episode", "turn"), ("entity", "zozo")):
            got = await upgraded.search_text("alice", target, text, 10)  # type: ignore[arg-type]
            assert got and got == await fresh.search_text("alice", target, text, 10)  # type: ignore[arg-type]
    assert _stats(old) == _stats(new)


# -- reads and their indexes ------------------------------------------------------------------
async def test_facts_by_subject_and_predicate_walk_their_own_index(
    tmp_path: Path, sample: Sample
) -> None:
    # The profile header reads the user's facts of one predicate at a time, in start order;
    # without the predicate in the ordering index every read walked all the user's facts.
    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    try:
        facts = [sample.fact("alice", f"f{i}", f"likes {i}", valid=i) for i in range(20)]
        facts.append(sample.fact("alice", "n", "Alice", predicate="name", value="Alice", valid=3))
        await store.apply(WriteSet("alice", facts=facts))
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        query = FactQuery(subject_id="self", predicate="name", as_of=days(10), limit=5)
        assert [f.id for f in await store.find_facts("alice", query)] == ["n"]
        store._db.set_trace_callback(None)
        (sql,) = [s for s in statements if s.lstrip().startswith("SELECT")]
        plan = " ".join(row[3] for row in store._db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "facts_by_subject_predicate_start" in plan
        assert "TEMP B-TREE" not in plan  # the index gives the order: no sort
    finally:
        await store.close()


async def test_calls_made_together_reach_the_database_thread_as_one_batch(
    tmp_path: Path, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memlane.memory_graph.stores.sqlite import _batch

    store = SQLiteStore(tmp_path / "m.db")
    await store.open()
    try:
        await store.apply(WriteSet("alice", facts=[sample.fact("alice", "f1", "likes tea")]))
        sizes: list[int] = []
        work = _batch.BatchWorker._work

        def counted(loop: asyncio.AbstractEventLoop, batch: list[Any]) -> None:
            sizes.append(len(batch))
            work(loop, batch)

        monkeypatch.setattr(_batch.BatchWorker, "_work", staticmethod(counted))

        async def nested() -> list[list[Fact]]:  # a gather inside a gather, like the header
            return list(
                await asyncio.gather(*(store.find_facts("alice", FactQuery()) for _ in range(3)))
            )

        found = await asyncio.gather(
            store.get_facts("alice", ["f1", "nope"]),
            store.search_text("alice", "fact", "tea", 5),
            nested(),
        )
        assert sizes == [5]
        assert [f.id for f in found[0]] == ["f1"]
        assert [h.id for h in found[1]] == ["f1"]
        assert [[f.id for f in fs] for fs in found[2]] == [["f1"]] * 3
        # A failing call fails alone; the others of its batch still answer.
        bad, good = await asyncio.gather(
            store.search_vector("alice", "nowhere", np.ones(4), 3),  # type: ignore[arg-type]
            store.get_facts("alice", ["f1"]),
            return_exceptions=True,
        )
        assert isinstance(bad, InputError)
        assert [f.id for f in good] == ["f1"]  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_a_call_waiting_in_a_batch_when_the_store_closes_gets_a_store_error() -> None:
    """Closing the worker while a batch is still open answers its calls with StoreError,
    not the executor's bare RuntimeError."""
    from memlane.memory_graph.stores.sqlite._batch import BatchWorker

    worker = BatchWorker("test-batch")
    waiting = asyncio.ensure_future(worker.call(lambda: 1))
    await asyncio.sleep(0)  # the call is made; its batch is still open
    worker.shutdown(wait=True)
    with pytest.raises(StoreError, match="closed before this call ran"):
        await waiting
