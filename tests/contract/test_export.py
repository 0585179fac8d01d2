"""Contract: export is stable, JSON-ready, and round-trips through ``memlane.memory_graph.io``."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest

from memlane.memory_graph.io import dict_to_writes
from memlane.memory_graph.model import WriteSet
from memlane.memory_graph.stores import GraphStore
from tests.conftest import Sample

pytestmark = pytest.mark.contract


async def fill(store: GraphStore, sample: Sample) -> None:
    for n in (3, 1, 2):
        await store.apply(sample.turn("alice", n, facts=2))
    await store.apply(sample.turn("bob", 1, facts=1))
    extra = WriteSet(
        "alice",
        episodes=[sample.episode("alice", "a_same_time", "same time as ep1", day=1, session=None)],
        entities=[sample.entity("alice", "zed", "Zed", aliases=("Z", "Zeddy"))],
        facts=[
            sample.fact(
                "alice",
                "closed",
                "The user lived in Oslo",
                predicate="lives_in",
                value="Oslo",
                valid=0,
                invalid=2,
                expired=2,
                episodes=("ep1", "ep2"),
            ),
            sample.fact(
                "alice", "novec", "A fact without a vector", kind="trait", polarity="negative"
            ),
        ],
    )
    await store.apply(extra)


async def export(store: GraphStore, user: str) -> list[dict]:
    return [r async for r in store.export(user)]


async def test_export_order_and_shape(store: GraphStore, sample: Sample) -> None:
    await fill(store, sample)
    records = await export(store, "alice")
    assert json.loads(json.dumps(records)) == records  # JSON-ready
    types = [r["type"] for r in records]
    assert types == sorted(types, key=["episode", "entity", "fact"].index)
    # episodes by occurred_at, then id ("a_same_time" and "ep1" share a day)
    episodes = [r["id"] for r in records if r["type"] == "episode"]
    assert episodes == ["a_same_time", "ep1", "ep2", "ep3"]
    for kind in ("entity", "fact"):
        ids = [r["id"] for r in records if r["type"] == kind]
        assert ids == sorted(ids)
    assert {r["user_id"] for r in records} == {"alice"}
    with_vectors = {r["id"] for r in records if "vector" in r}
    assert "novec" not in with_vectors and "f1_0" in with_vectors and "ep1" in with_vectors
    assert await export(store, "alice") == records  # stable


async def test_export_round_trips_into_a_fresh_store(
    store: GraphStore, sample: Sample, store_factory: Callable[[str], Awaitable[GraphStore]]
) -> None:
    await fill(store, sample)
    records = await export(store, "alice")
    fresh = await store_factory("fresh")
    for writes in dict_to_writes(json.loads(json.dumps(records))):
        await fresh.apply(writes)
    assert await export(fresh, "alice") == records
    assert await fresh.users() == ["alice"]
    # vectors came along: the same search gives the same answer
    query = sample.vec("The user visited place 2 (note 1)")
    before = await store.search_vector("alice", "fact", query, 3)
    after = await fresh.search_vector("alice", "fact", query, 3)
    assert [h.id for h in after] == [h.id for h in before]
    assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-5)


async def test_export_of_an_unknown_user_is_empty(store: GraphStore, sample: Sample) -> None:
    await fill(store, sample)
    assert await export(store, "nobody") == []
