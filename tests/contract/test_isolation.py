"""Contract: one user's data never appears in any read primitive called for another user,
even when both users use the very same record ids."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

from memlane.memory_graph.model import FactQuery, WriteSet
from memlane.memory_graph.stores import GraphStore
from tests.conftest import Sample

pytestmark = pytest.mark.contract

# Words that appear only in one user's records.
PRIVATE = {
    "alice": {"city": "Paris", "pet": "cat", "secret": "Atlantis", "alias": "Lost City"},
    "bob": {"city": "Berlin", "pet": "dog", "secret": "Zanzibar", "alias": "Spice Island"},
}
SHARED_IDS = {"episode": ["ep1", "ep2"], "entity": ["self", "city"], "fact": ["f_city", "f_pet"]}


def graph(s: Sample, user: str) -> WriteSet:
    w = PRIVATE[user]
    secret_id = f"only_{user}"
    eps = [
        s.episode(user, "ep1", f"I live in {w['city']}", day=1),
        s.episode(user, "ep2", f"My {w['pet']} is great", day=2),
        s.episode(user, secret_id, f"I buried gold in {w['secret']}", day=3, session=secret_id),
    ]
    ents = [
        s.entity(user, "self", user.title(), kind="self"),
        s.entity(user, "city", w["city"], kind="place"),
        s.entity(user, secret_id, w["secret"], kind="place", aliases=(w["alias"],)),
    ]
    facts = [
        s.fact(
            user,
            "f_city",
            f"The user lives in {w['city']}",
            predicate="lives_in",
            obj="city",
            valid=1,
            episodes=("ep1",),
        ),
        s.fact(
            user,
            "f_pet",
            f"The user has a {w['pet']}",
            predicate="has_pet",
            value=w["pet"],
            valid=2,
            episodes=("ep2",),
        ),
        s.fact(
            user,
            secret_id,
            f"The user buried gold in {w['secret']}",
            predicate="visited",
            obj=secret_id,
            valid=3,
            expired=4,
            episodes=(secret_id,),
        ),
    ]
    return WriteSet(
        user,
        episodes=eps,
        entities=ents,
        facts=facts,
        episode_vectors={e.id: s.vec(e.content) for e in eps},
        entity_vectors={e.id: s.vec(e.name) for e in ents},
        fact_vectors={f.id: s.vec(f.statement) for f in facts},
    )


@pytest.fixture
async def two_users(store: GraphStore, sample: Sample) -> dict[str, WriteSet]:
    graphs = {user: graph(sample, user) for user in PRIVATE}
    for writes in graphs.values():
        await store.apply(writes)
    return graphs


def leaks(records: object, other: str) -> list[str]:
    """The other user's private words or user id found in ``records``."""
    text = json.dumps(records, default=lambda o: o.model_dump(mode="json")).lower()
    words = [*PRIVATE[other].values(), f"only_{other}", f'"{other}"']
    return [w for w in words if re.search(rf"\b{re.escape(w.lower())}\b", text)]


PAIRS = [("alice", "bob"), ("bob", "alice")]


@pytest.mark.parametrize(("me", "other"), PAIRS)
async def test_reads_by_id_and_filter(
    store: GraphStore, two_users: dict[str, WriteSet], me: str, other: str
) -> None:
    mine = two_users[me]
    ids = {k: [*v, f"only_{other}", f"only_{me}"] for k, v in SHARED_IDS.items()}
    results: dict[str, list[Any]] = {
        "get_episodes": await store.get_episodes(me, ids["episode"]),
        "get_entities": await store.get_entities(me, ids["entity"]),
        "get_facts": await store.get_facts(me, ids["fact"]),
        "find_facts": await store.find_facts(me, FactQuery(include_retracted=True)),
        "find_facts_filtered": await store.find_facts(
            me, FactQuery(subject_id="self", predicate="lives_in")
        ),
        "find_facts_object": await store.find_facts(
            me, FactQuery(object_id=f"only_{other}", include_retracted=True)
        ),
        "find_entities": await store.find_entities(
            me, [PRIVATE[other]["city"], PRIVATE[other]["secret"], PRIVATE[other]["alias"]]
        ),
        "list_entities": await store.list_entities(me),
        "session": await store.episodes_in_session(me, "s1"),
        "other_session": await store.episodes_in_session(me, f"only_{other}"),
        "neighbourhood": await store.neighbourhood(me, ["self", "city", f"only_{other}"], 2),
    }
    for name, records in results.items():
        assert not leaks(records, other), name
        assert all(r.user_id == me for r in records), name
    assert results["get_facts"] == sorted(mine.facts, key=lambda f: ids["fact"].index(f.id))
    assert results["get_entities"] == sorted(mine.entities, key=lambda e: ids["entity"].index(e.id))
    assert results["get_episodes"] == sorted(
        mine.episodes, key=lambda e: ids["episode"].index(e.id)
    )
    assert results["find_entities"] == []
    assert results["find_facts_object"] == []
    assert results["other_session"] == []
    assert await store.neighbourhood(me, [f"only_{other}"], 2) == []


@pytest.mark.parametrize(("me", "other"), PAIRS)
async def test_search(
    store: GraphStore, two_users: dict[str, WriteSet], sample: Sample, me: str, other: str
) -> None:
    words = " ".join(PRIVATE[other].values())
    for target in ("fact", "episode", "entity"):
        assert await store.search_text(me, target, words, 10) == [], target  # type: ignore[arg-type]
    mine, theirs = two_users[me], two_users[other]
    for target, my_vecs, their_vecs in (
        ("fact", mine.fact_vectors, theirs.fact_vectors),
        ("episode", mine.episode_vectors, theirs.episode_vectors),
        ("entity", mine.entity_vectors, theirs.entity_vectors),
    ):
        for their_vec in their_vecs.values():
            hits = await store.search_vector(me, target, their_vec, 10)  # type: ignore[arg-type]
            assert {h.id for h in hits} <= set(my_vecs), target
            for hit in hits:  # scored against *my* vector of that id, not theirs
                expected = float(np.dot(my_vecs[hit.id], their_vec))
                assert hit.score == pytest.approx(expected, abs=1e-4), (target, hit)


@pytest.mark.parametrize(("me", "other"), PAIRS)
async def test_whole_user_reads(
    store: GraphStore, two_users: dict[str, WriteSet], me: str, other: str
) -> None:
    assert await store.counts(me) == {"episodes": 3, "entities": 3, "facts": 3}
    exported = [r async for r in store.export(me)]
    assert not leaks(exported, other)
    assert {r["user_id"] for r in exported} == {me}
    assert len(exported) == 9


async def test_writes_and_deletes_stay_in_their_user(
    store: GraphStore, two_users: dict[str, WriteSet], sample: Sample
) -> None:
    bob_before = [r async for r in store.export("bob")]
    changed = sample.fact("alice", "f_city", "The user lives in Rome", predicate="lives_in")
    await store.apply(WriteSet("alice", facts=[changed]))
    await store.apply(WriteSet("alice", episodes=[sample.episode("alice", "ep1", "changed?")]))
    assert await store.delete_facts("alice", ["f_pet"]) == 1
    assert [r async for r in store.export("bob")] == bob_before
    await store.forget_user("alice")
    assert [r async for r in store.export("bob")] == bob_before
