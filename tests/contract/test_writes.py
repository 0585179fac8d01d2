"""Contract: apply is atomic, episodes are insert-if-absent, entities/facts/vectors upsert,
delete_facts and forget_user remove exactly what they name."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.memory_graph.errors import MemlaneError
from memlane.memory_graph.model import Fact, FactQuery, WriteSet
from memlane.memory_graph.stores import GraphStore
from tests.conftest import Sample, days

pytestmark = pytest.mark.contract


async def assert_empty(store: GraphStore, user: str) -> None:
    assert await store.counts(user) == {"episodes": 0, "entities": 0, "facts": 0}
    assert await store.find_facts(user, FactQuery(include_retracted=True)) == []
    assert await store.list_entities(user) == []
    assert [r async for r in store.export(user)] == []


async def test_apply_lands_a_whole_turn(store: GraphStore, sample: Sample) -> None:
    await store.apply(sample.turn("alice", 1, facts=3))
    assert await store.counts("alice") == {"episodes": 1, "entities": 1, "facts": 3}
    facts = await store.get_facts("alice", ["f1_0", "f1_1", "f1_2"])
    assert [f.id for f in facts] == ["f1_0", "f1_1", "f1_2"]
    assert facts[0] == sample.turn("alice", 1, facts=3).facts[0]


async def test_apply_with_an_invalid_record_writes_nothing(
    store: GraphStore, sample: Sample
) -> None:
    good = sample.turn("alice", 1)
    # model_construct bypasses validation, as a buggy caller might: the store must refuse.
    bad = Fact.model_construct(**{**good.facts[0].__dict__, "id": "f_bad", "predicate": "Bad!"})
    writes = WriteSet(
        user_id="alice",
        episodes=good.episodes,
        entities=good.entities,
        facts=[*good.facts, bad],
        fact_vectors=good.fact_vectors,
    )
    with pytest.raises(MemlaneError):
        await store.apply(writes)
    await assert_empty(store, "alice")


async def test_apply_with_a_vector_for_no_record_writes_nothing(
    store: GraphStore, sample: Sample
) -> None:
    good = sample.turn("alice", 1)
    good.fact_vectors["f_nowhere"] = sample.vec("nothing")
    with pytest.raises(MemlaneError):
        await store.apply(good)
    await assert_empty(store, "alice")


@pytest.mark.parametrize("bad", [np.array([np.nan, 1.0]), np.zeros((2, 2)), np.array([])])
async def test_apply_with_a_malformed_vector_writes_nothing(
    store: GraphStore, sample: Sample, bad: np.ndarray
) -> None:
    good = sample.turn("alice", 1)
    good.fact_vectors["f1_0"] = bad
    with pytest.raises(MemlaneError):
        await store.apply(good)
    await assert_empty(store, "alice")


async def test_a_failed_apply_leaves_earlier_data_unchanged(
    store: GraphStore, sample: Sample
) -> None:
    await store.apply(sample.turn("alice", 1))
    before = [r async for r in store.export("alice")]
    changed = sample.turn("alice", 1)
    changed.facts[0] = changed.facts[0].model_copy(update={"statement": "changed"})
    changed.fact_vectors["f_nowhere"] = sample.vec("x")
    with pytest.raises(MemlaneError):
        await store.apply(changed)
    assert [r async for r in store.export("alice")] == before


async def test_episode_insert_is_idempotent(store: GraphStore, sample: Sample) -> None:
    first = sample.episode("alice", "ep1", "I live in Paris")
    await store.apply(WriteSet("alice", episodes=[first]))
    again = sample.episode("alice", "ep1", "something else entirely", day=5)
    await store.apply(WriteSet("alice", episodes=[again]))
    assert await store.get_episodes("alice", ["ep1"]) == [first]
    assert await store.counts("alice") == {"episodes": 1, "entities": 0, "facts": 0}
    assert await store.search_text("alice", "episode", "something entirely", 5) == []


async def test_entity_upsert_replaces_name_and_aliases(store: GraphStore, sample: Sample) -> None:
    await store.apply(
        WriteSet("alice", entities=[sample.entity("alice", "e1", "Robert", aliases=("Rob",))])
    )
    renamed = sample.entity("alice", "e1", "Bobby Tables", aliases=("Bob",))
    await store.apply(WriteSet("alice", entities=[renamed]))
    assert await store.get_entities("alice", ["e1"]) == [renamed]
    assert await store.find_entities("alice", ["bob"]) == [renamed]
    assert await store.find_entities("alice", ["Rob"]) == []
    assert await store.find_entities("alice", ["robert"]) == []
    assert [h.id for h in await store.search_text("alice", "entity", "tables", 5)] == ["e1"]
    assert await store.search_text("alice", "entity", "robert", 5) == []


async def test_fact_upsert_updates_fields_and_text_index(store: GraphStore, sample: Sample) -> None:
    fact = sample.fact("alice", "f1", "The user lives in Lisbon", predicate="lives_in", valid=1)
    await store.apply(WriteSet("alice", facts=[fact]))
    closed = fact.model_copy(
        update={
            "statement": "The user lived in Porto",
            "invalid_at": days(3),
            "expired_at": days(4),
        }
    )
    await store.apply(WriteSet("alice", facts=[closed]))
    assert await store.get_facts("alice", ["f1"]) == [closed]
    assert await store.counts("alice") == {"episodes": 0, "entities": 0, "facts": 1}
    assert await store.find_facts("alice", FactQuery(current_only=True)) == []
    assert [h.id for h in await store.search_text("alice", "fact", "porto", 5)] == ["f1"]
    assert await store.search_text("alice", "fact", "lisbon", 5) == []


async def test_vector_upsert_replaces_the_vector(store: GraphStore, sample: Sample) -> None:
    a = sample.fact("alice", "fa", "apples")
    b = sample.fact("alice", "fb", "bananas")
    x, y = np.eye(8, dtype=np.float32)[0], np.eye(8, dtype=np.float32)[1]
    await store.apply(WriteSet("alice", facts=[a, b], fact_vectors={"fa": x, "fb": y}))
    assert [h.id for h in await store.search_vector("alice", "fact", x, 1)] == ["fa"]
    # Only vectors (for stored facts), no records: re-embedding is a valid write set.
    await store.apply(WriteSet("alice", fact_vectors={"fa": y, "fb": x}))
    assert [h.id for h in await store.search_vector("alice", "fact", x, 1)] == ["fb"]


async def test_delete_facts(store: GraphStore, sample: Sample) -> None:
    for user in ("alice", "bob"):
        await store.apply(sample.turn(user, 1, facts=3))
    assert await store.delete_facts("alice", ["f1_0", "f1_2", "missing"]) == 2
    assert [f.id for f in await store.find_facts("alice", FactQuery())] == ["f1_1"]
    assert await store.get_facts("alice", ["f1_0", "f1_2"]) == []
    text_hits = await store.search_text("alice", "fact", "visited place", 10)
    assert {h.id for h in text_hits} == {"f1_1"}
    vec_hits = await store.search_vector("alice", "fact", sample.vec("visited place 1"), 10)
    assert {h.id for h in vec_hits} == {"f1_1"}
    assert await store.delete_facts("alice", ["f1_0"]) == 0
    # bob's facts with the same ids are untouched
    assert len(await store.get_facts("bob", ["f1_0", "f1_1", "f1_2"])) == 3


async def test_forget_user_removes_everything_of_that_user_only(
    store: GraphStore, sample: Sample
) -> None:
    for n in range(3):
        await store.apply(sample.turn("alice", n, facts=2))
        await store.apply(sample.turn("bob", n, facts=2))
    bob_before = [r async for r in store.export("bob")]
    assert await store.forget_user("alice") == {"episodes": 3, "entities": 3, "facts": 6}
    await assert_empty(store, "alice")
    assert await store.search_text("alice", "fact", "visited place", 10) == []
    assert await store.search_text("alice", "episode", "visited place", 10) == []
    assert await store.search_text("alice", "entity", "place", 10) == []
    for target in ("fact", "episode", "entity"):
        assert await store.search_vector("alice", target, sample.vec("place 1"), 10) == []  # type: ignore[arg-type]
    assert await store.find_entities("alice", ["place 1"]) == []
    assert await store.neighbourhood("alice", ["place1"], hops=2) == []
    assert await store.episodes_in_session("alice", "s1") == []
    assert await store.users() == ["bob"]
    assert [r async for r in store.export("bob")] == bob_before
    assert await store.forget_user("alice") == {"episodes": 0, "entities": 0, "facts": 0}
