"""Contract: full-text search treats user text as words (never as query syntax) and ranks;
vector search ranks by cosine similarity and returns ids and scores only."""

from __future__ import annotations

import numpy as np
import pytest

from memlane.memory_graph.model import WriteSet
from memlane.memory_graph.stores import GraphStore, Hit
from tests.conftest import Sample

pytestmark = pytest.mark.contract


@pytest.fixture
async def texts(store: GraphStore, sample: Sample) -> GraphStore:
    facts = [
        sample.fact(
            "alice", "f_paris", "The user lives in Paris", predicate="lives_in", value="Paris"
        ),
        sample.fact("alice", "f_sushi", "The user loves sushi and ramen"),
        sample.fact("alice", "f_rust", "The user writes Rust at a start-up"),
        sample.fact("alice", "f_zurich", "The user met Zoë at Café Müller in Zürich"),
        sample.fact("alice", "f_dog", "The user's dog is called Rex", value="Rex"),
    ]
    episodes = [
        sample.episode("alice", "ep_move", "I just moved to Paris, the flat is tiny!"),
        sample.episode("alice", "ep_food", "Had the best ramen of my life yesterday", day=1),
    ]
    entities = [
        sample.entity("alice", "e_zoe", "Zoë", kind="person", aliases=("Zozo",)),
        sample.entity("alice", "e_paris", "Paris", kind="place", aliases=("City of Light",)),
    ]
    await store.apply(WriteSet("alice", episodes=episodes, entities=entities, facts=facts))
    return store


async def test_search_text_ranks_matching_facts_first(texts: GraphStore) -> None:
    hits = await texts.search_text("alice", "fact", "where does the user live? Paris", 3)
    assert hits[0].id == "f_paris"
    assert all(isinstance(h, Hit) and isinstance(h.score, float) for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_search_text_ors_the_words(texts: GraphStore) -> None:
    hits = await texts.search_text("alice", "fact", "sushi rust", 10)
    assert {h.id for h in hits} == {"f_sushi", "f_rust"}


async def test_search_text_searches_fact_values(texts: GraphStore) -> None:
    assert [h.id for h in await texts.search_text("alice", "fact", "rex", 5)] == ["f_dog"]


async def test_search_text_over_episodes_and_entities(texts: GraphStore) -> None:
    assert [h.id for h in await texts.search_text("alice", "episode", "ramen", 5)] == ["ep_food"]
    assert [h.id for h in await texts.search_text("alice", "entity", "zozo", 5)] == ["e_zoe"]
    hits = await texts.search_text("alice", "entity", "city of light", 5)
    assert [h.id for h in hits] == ["e_paris"]


async def test_search_text_respects_k(texts: GraphStore) -> None:
    assert len(await texts.search_text("alice", "fact", "user", 2)) == 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"Paris', "f_paris"),
        ('Paris"', "f_paris"),
        ("paris AND", "f_paris"),
        ("NOT paris", "f_paris"),
        ("paris OR", "f_paris"),
        ("pari* ", None),
        ("(paris", "f_paris"),
        ("paris) OR (", "f_paris"),
        ("statement: paris", "f_paris"),
        ("value:paris", "f_paris"),
        ("- paris -", "f_paris"),
        ("start-up", "f_rust"),
        ("NEAR(sushi ramen)", "f_sushi"),
        ("^sushi", "f_sushi"),
        ("sushi'); DROP TABLE facts; --", "f_sushi"),
        ("MATCH (n) DETACH DELETE n // sushi", "f_sushi"),
        ("Zürich", "f_zurich"),
        ("zurich", "f_zurich"),
        ("café müller", "f_zurich"),
        ("ZOË", "f_zurich"),
        ("Rust\\", "f_rust"),
        ("{rust}", "f_rust"),
        ("rust~2", "f_rust"),
        ("[rust]", "f_rust"),
    ],
)
async def test_search_text_treats_syntax_as_text(
    texts: GraphStore, query: str, expected: str | None
) -> None:
    hits = await texts.search_text("alice", "fact", query, 5)
    if expected is not None:
        assert hits and hits[0].id == expected, (query, hits)
    # the facts table is intact afterwards
    assert len(await texts.get_facts("alice", ["f_paris", "f_sushi"])) == 2


@pytest.mark.parametrize(
    "query", ["", "   ", 'AND OR NOT * " ( ) :', "***", "::", '""', "-", "\u200b", "😀", "?!"]
)
async def test_search_text_with_no_words_does_not_raise(texts: GraphStore, query: str) -> None:
    hits = await texts.search_text("alice", "fact", query, 5)
    assert isinstance(hits, list)


async def test_search_text_with_a_long_query(texts: GraphStore) -> None:
    query = " ".join(["lorem ipsum dolor"] * 2000) + " sushi"
    assert isinstance(await texts.search_text("alice", "fact", query, 5), list)


def basis(i: int, dim: int = 64) -> np.ndarray:
    return np.eye(dim, dtype=np.float32)[i]


async def test_search_vector_ranks_by_cosine(store: GraphStore, sample: Sample) -> None:
    facts = [sample.fact("alice", f"f{i}", f"fact {i}") for i in range(4)]
    vectors = {
        "f0": basis(0),
        "f1": 0.8 * basis(0) + 0.6 * basis(1),
        "f2": basis(1) * 3.0,  # not unit length: cosine ignores the norm
        "f3": -basis(0),
    }
    await store.apply(WriteSet("alice", facts=facts, fact_vectors=vectors))
    hits = await store.search_vector("alice", "fact", basis(0) * 2, 4)
    assert [h.id for h in hits] == ["f0", "f1", "f2", "f3"]
    assert [h.score for h in hits] == pytest.approx([1.0, 0.8, 0.0, -1.0], abs=1e-4)
    top2 = await store.search_vector("alice", "fact", basis(1), 2)
    assert [h.id for h in top2] == ["f2", "f1"]
    assert all(set(vars(h)) == {"id", "score"} for h in hits)  # never a vector


async def test_search_vector_over_episodes_and_entities(store: GraphStore, sample: Sample) -> None:
    writes = sample.turn("alice", 1)
    writes2 = sample.turn("alice", 2)
    await store.apply(writes)
    await store.apply(writes2)
    hits = await store.search_vector("alice", "episode", writes2.episode_vectors["ep2"], 2)
    assert hits[0].id == "ep2"
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    hits = await store.search_vector("alice", "entity", writes.entity_vectors["place1"], 1)
    assert [h.id for h in hits] == ["place1"]


async def test_search_vector_sees_new_writes(store: GraphStore, sample: Sample) -> None:
    await store.apply(sample.turn("alice", 1))
    before = await store.search_vector("alice", "fact", basis(3), 1)  # fills any cache
    assert before and before[0].id != "late"
    late = sample.fact("alice", "late", "late fact")
    await store.apply(WriteSet("alice", facts=[late], fact_vectors={"late": basis(3)}))
    assert (await store.search_vector("alice", "fact", basis(3), 1))[0].id == "late"


async def test_search_vector_without_vectors_is_empty(store: GraphStore, sample: Sample) -> None:
    await store.apply(WriteSet("alice", facts=[sample.fact("alice", "f", "no vector")]))
    assert await store.search_vector("alice", "fact", basis(0), 5) == []
