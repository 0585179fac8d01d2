"""The Memory facade against the real SQLite store (hash embedder): writes, reads, rules."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    UnknownPredicateError,
)
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import SELF_ID, Episode, WriteSet
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.timeutil import parse_time

pytestmark = pytest.mark.unit


class Clock:
    """A settable clock, so recorded_at/expired_at are predictable."""

    def __init__(self, start: str = "2025-01-01T00:00:00Z") -> None:
        self.now = parse_time(start)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    store = open_store(f"sqlite:///{tmp_path / 'memory.db'}")
    await store.open()
    try:
        yield Memory(store, make_embedder("hash"), clock=Clock())
    finally:
        await store.close()


def ep(eid: str, content: str, when: str, user: str = "u1") -> Episode:
    return Episode(
        id=eid,
        user_id=user,
        session_id="s1",
        content=content,
        occurred_at=parse_time(when),
        recorded_at=parse_time("2025-01-01"),
    )


def lives(city: str, *eps: str, **kw: object) -> FactDraft:
    return FactDraft(
        predicate="lives_in",
        object=city,
        object_kind="place",
        statement=f"I live in {city}",
        episode_ids=list(eps),
        **kw,  # type: ignore[arg-type]
    )


async def dump(memory: Memory, user: str = "u1") -> list[str]:
    return [json.dumps(r, sort_keys=True) async for r in memory.export(user)]


async def test_commit_defaults_valid_at_to_the_episode_time(memory: Memory) -> None:
    report = await memory.commit(
        "u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-03-01")]
    )
    assert report.facts_added == 1 and report.episodes_added == 1
    assert report.entities_added == 2  # the user and Paris
    [fact] = await memory.facts("u1")
    assert fact.valid_at == parse_time("2020-03-01")
    assert fact.subject_id == SELF_ID
    assert fact.episode_ids == ("m1",)
    names = {e.name for e in await memory.entities("u1")}
    assert names == {"user", "Paris"}


async def test_newer_value_closes_older_and_as_of_sees_the_past(memory: Memory) -> None:
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-03-01")])
    report = await memory.commit(
        "u1", [lives("Berlin")], [ep("m2", "I moved to Berlin", "2022-06-01")]
    )
    assert report.facts_added == 1 and report.facts_closed == 1

    current = await memory.facts("u1", current_only=True)
    assert [f.statement for f in current] == ["I live in Berlin"]
    then = await memory.facts("u1", as_of="2021-01-01")
    assert [f.statement for f in then] == ["I live in Paris"]

    history = await memory.history("u1", "I", "moved_to")  # a synonym of lives_in
    assert [f.statement for f in history] == ["I live in Paris", "I live in Berlin"]
    assert history[0].invalid_at == parse_time("2022-06-01")
    assert history[0].expired_at is not None


async def test_old_story_is_stored_closed_and_current_value_stays(memory: Memory) -> None:
    await memory.commit("u1", [lives("Berlin")], [ep("m2", "I live in Berlin", "2022-06-01")])
    report = await memory.commit(
        "u1",
        # A story says it ended (by the time it is told); an open start would be the present.
        [lives("Rome", valid_at="2015-01-01", invalid_at="2024-01-01")],
        [ep("m3", "Back in 2015 I lived in Rome", "2024-01-01")],
    )
    assert report.facts_closed == 0
    current = await memory.facts("u1", current_only=True)
    assert [f.statement for f in current] == ["I live in Berlin"]
    rome = await memory.facts("u1", as_of="2016-01-01")
    assert [f.statement for f in rome] == ["I live in Rome"]
    assert rome[0].invalid_at == parse_time("2022-06-01")


async def test_restatement_merges_provenance_instead_of_duplicating(memory: Memory) -> None:
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-03-01")])
    report = await memory.commit(
        "u1", [lives("paris")], [ep("m2", "Still in Paris, yes", "2021-03-01")]
    )
    assert report.facts_added == 0 and report.facts_merged == 1
    [fact] = await memory.facts("u1")
    assert fact.episode_ids == ("m1", "m2")


async def test_drafts_in_one_batch_see_each_other(memory: Memory) -> None:
    report = await memory.commit(
        "u1",
        [
            lives("Paris", valid_at="2018-01-01"),
            lives("Lyon", valid_at="2020-01-01"),
            lives("Nice", valid_at="2019-01-01"),
        ],
        [ep("m1", "Paris, then Nice, then Lyon", "2024-01-01")],
    )
    assert report.facts_added == 3
    history = await memory.history("u1", "user", "lives_in")
    assert [f.statement for f in history] == ["I live in Paris", "I live in Nice", "I live in Lyon"]
    assert [f.invalid_at for f in history] == [
        parse_time("2019-01-01"),
        parse_time("2020-01-01"),
        None,
    ]


async def test_entities_resolve_by_normalised_name(memory: Memory) -> None:
    friend = FactDraft(
        predicate="friend_of",
        object="Bob Smith",
        object_kind="person",
        statement="Bob is my friend",
    )
    job = FactDraft(
        subject="bob smith",
        predicate="works_at",
        object="Acme",
        object_kind="org",
        statement="Bob works at Acme",
    )
    await memory.commit("u1", [friend])
    report = await memory.commit("u1", [job])
    assert report.entities_added == 1  # Acme only; "bob smith" is Bob Smith
    bob = [e for e in await memory.entities("u1") if e.name == "Bob Smith"]
    assert len(bob) == 1
    assert [f.statement for f in await memory.facts("u1", subject="Bob Smith")] == [
        "Bob works at Acme"
    ]


async def test_multi_valued_predicate_accumulates_and_polarity_flips(memory: Memory) -> None:
    def likes(what: str, polarity: str = "positive") -> FactDraft:
        return FactDraft(
            predicate="likes",
            object=what,
            statement=f"likes {what} ({polarity})",
            polarity=polarity,  # type: ignore[arg-type]
            kind="preference",
        )

    await memory.commit("u1", [likes("sushi"), likes("jazz")], [ep("m1", "x", "2020-01-01")])
    report = await memory.commit("u1", [likes("sushi", "negative")], [ep("m2", "y", "2023-01-01")])
    assert report.facts_closed == 1
    current = {f.statement for f in await memory.facts("u1", current_only=True)}
    assert current == {"likes jazz (positive)", "likes sushi (negative)"}


async def test_unknown_predicate_fails_and_writes_nothing(memory: Memory) -> None:
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-03-01")])
    before = await dump(memory)
    bad = FactDraft(predicate="favourite_colour_of_socks", object="red", statement="red socks")
    with pytest.raises(UnknownPredicateError) as err:
        await memory.commit("u1", [lives("Oslo"), bad], [ep("m9", "red socks", "2024-01-01")])
    assert "favourite_colour_of_socks" in str(err.value)
    assert await dump(memory) == before


async def test_contradicts_ignores_unknown_and_foreign_ids(memory: Memory) -> None:
    await memory.commit("u2", [lives("Madrid")], [ep("x1", "Madrid", "2020-01-01", user="u2")])
    [foreign] = await memory.facts("u2")
    draft = FactDraft(
        predicate="likes",
        object="tea",
        statement="I like tea",
        contradicts=[foreign.id, "f_does_not_exist"],
    )
    report = await memory.commit("u1", [draft], [ep("m1", "I like tea", "2024-01-01")])
    assert report.facts_added == 1 and report.facts_closed == 0
    assert sum("unknown; ignored" in n for n in report.notes) == 2
    assert (await memory.facts("u2"))[0].is_current


async def test_add_episodes_is_idempotent(memory: Memory) -> None:
    first = await memory.add_episodes(
        [ep("m1", "hello", "2024-01-01"), ep("m2", "hi", "2024-01-02")]
    )
    assert (first.episodes_added, first.episodes_skipped) == (2, 0)
    before = await dump(memory)
    again = await memory.add_episodes([ep("m1", "hello", "2024-01-01")])
    assert (again.episodes_added, again.episodes_skipped) == (0, 1)
    assert await dump(memory) == before
    with pytest.raises(InputError):
        await memory.add_episodes([ep("m3", "a", "2024-01-01"), ep("m4", "b", "2024-01-01", "u2")])


async def test_candidates_current_first_and_capped(memory: Memory) -> None:
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-01-01")])
    await memory.commit("u1", [lives("Berlin")], [ep("m2", "I live in Berlin", "2022-01-01")])
    found = await memory.candidates("u1", "where do I live", k=5)
    assert [f.statement for f in found] == ["I live in Berlin", "I live in Paris"]
    assert len(await memory.candidates("u1", "where do I live", k=1)) == 1
    with pytest.raises(InputError):
        await memory.candidates("u1", "   ")


async def test_candidates_include_the_past_value_a_story_names(memory: Memory) -> None:
    await memory.commit("u1", [lives("Lisbon")], [ep("m1", "I live in Lisbon", "2019-01-01")])
    await memory.commit("u1", [lives("Berlin")], [ep("m2", "I live in Berlin", "2022-01-01")])
    hobbies = [
        FactDraft(predicate="hobby", object=h, statement=f"I enjoy {h} when I live well")
        for h in ("surfing", "chess", "climbing", "baking", "running")
    ]
    await memory.commit("u1", hobbies, [ep("m3", "my hobbies", "2023-01-01")])
    found = await memory.candidates("u1", "Back when I lived in Lisbon, I surfed", k=3)
    assert "I live in Lisbon" in [f.statement for f in found]
    assert all(f.is_current for f in found if f.statement != "I live in Lisbon")


async def test_bad_inputs_are_input_errors(memory: Memory) -> None:
    with pytest.raises(InputError):
        await memory.facts("bad user id!")
    with pytest.raises(InputError):
        await memory.recall("u1", "")
    with pytest.raises(InputError):
        await memory.facts("u1", as_of="not a date")
    with pytest.raises(NotFoundError):
        await memory.history("u1", "Nobody", "lives_in")


async def test_recall_finds_the_current_fact(memory: Memory) -> None:
    pytest.importorskip("memlane.memory_graph.retrieval.retriever")
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-01-01")])
    await memory.commit("u1", [lives("Berlin")], [ep("m2", "I moved to Berlin", "2022-01-01")])
    ctx = await memory.recall("u1", "Where do I live?")
    assert ctx.facts and ctx.facts[0].fact.statement == "I live in Berlin"
    past = await memory.recall("u1", "Where did I live?", as_of="2021-01-01")
    assert "I live in Paris" in [c.fact.statement for c in past.facts]


async def test_export_import_round_trip_and_forget(memory: Memory, tmp_path: Path) -> None:
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-01-01")])
    await memory.commit("u1", [lives("Berlin")], [ep("m2", "I live in Berlin", "2022-01-01")])
    exported = [r async for r in memory.export("u1")]

    other = open_store(f"sqlite:///{tmp_path / 'copy.db'}")
    async with other:
        copy = Memory(other, make_embedder("hash"))
        counts = await copy.import_records(exported)
        assert counts["facts"] == 2 and counts["episodes"] == 2
        assert await dump(copy) == await dump(memory)

    deleted = await memory.forget("u1")
    assert deleted["facts"] == 2
    assert await dump(memory) == []
    assert await memory.facts("u1") == []


async def test_apply_writes_unless_a_fact_it_was_derived_from_changed(memory: Memory) -> None:
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-01-01")])
    (paris,) = await memory.facts("u1")
    retracted = paris.model_copy(update={"expired_at": parse_time("2025-02-01")})
    # Meanwhile a commit closes the fact the caller read: the stale write is refused whole.
    await memory.commit("u1", [lives("Berlin")], [ep("m2", "I live in Berlin", "2022-01-01")])
    before = await dump(memory)
    stale = WriteSet(
        user_id="u1", episodes=[ep("m3", "Correction", "2025-02-01")], facts=[retracted]
    )
    with pytest.raises(ConflictError):
        await memory.apply(stale, expect_unchanged=[paris])
    assert await dump(memory) == before

    # Derived from the fact as it is now, the same write goes through.
    (closed,) = [f for f in await memory.history("u1", "user", "lives_in") if f.id == paris.id]
    assert closed.invalid_at is not None
    retracted = closed.model_copy(
        update={"expired_at": parse_time("2025-02-01"), "invalid_at": None}
    )
    await memory.apply(WriteSet(user_id="u1", facts=[retracted]), expect_unchanged=[closed])
    (after,) = [f for f in await memory.history("u1", "user", "lives_in") if f.id == paris.id]
    assert after == retracted and after.is_retracted
    with pytest.raises(InputError):
        await memory.apply(WriteSet(user_id="bad user!"))


async def test_delete_facts_is_scoped_to_the_user(memory: Memory) -> None:
    await memory.commit("u1", [lives("Paris")], [ep("m1", "I live in Paris", "2020-01-01")])
    (paris,) = await memory.facts("u1")
    assert await memory.delete_facts("u2", [paris.id]) == 0
    assert await memory.delete_facts("u1", [paris.id, "f_unknown"]) == 1
    assert await memory.facts("u1") == []


async def test_dislikes_then_likes_leaves_one_current_stance(memory: Memory) -> None:
    def pref(predicate: str, statement: str) -> FactDraft:
        return FactDraft(
            predicate=predicate, object="sushi", statement=statement, kind="preference"
        )

    await memory.commit(
        "u1", [pref("dislikes", "I can't stand sushi")], [ep("m1", "x", "2022-01-01")]
    )
    disliked = await memory.facts("u1", predicate="dislikes", current_only=True)
    assert [f.statement for f in disliked] == ["I can't stand sushi"]

    report = await memory.commit(
        "u1", [pref("likes", "I like sushi now")], [ep("m2", "y", "2024-01-01")]
    )
    assert report.facts_closed == 1
    current = await memory.facts("u1", current_only=True)
    assert [(f.predicate, f.polarity, f.statement) for f in current] == [
        ("likes", "positive", "I like sushi now")
    ]
    assert await memory.facts("u1", predicate="dislikes", current_only=True) == []
    story = await memory.history("u1", "user", "likes")
    assert [(f.polarity, f.invalid_at) for f in story] == [
        ("negative", parse_time("2024-01-01")),
        ("positive", None),
    ]
    assert [f.statement for f in await memory.history("u1", "user", "hates")] == [
        "I can't stand sushi"
    ]
