"""Contract: search scores mean the same on every backend and depend on one user's data only.

Full-text scores are BM25 (k1 1.2, b 0.75) over the user's own records; vector scores are
cosine similarity. Both are checked against values computed here by hand, so two backends
that pass agree with each other exactly, and another user's records never move them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from memlane.memory_graph.model import WriteSet
from memlane.memory_graph.stores import GraphStore, Hit
from tests.conftest import Sample

pytestmark = pytest.mark.contract

# (id, statement): word counts 4, 6, 4, 4, 5, 4 (stopwords count: only queries drop them).
ALICE_FACTS = [
    ("f1", "The user loves sushi"),
    ("f2", "The user loves ramen and sushi"),
    ("f3", "The user writes Rust"),
    ("f4", "The user writes Go"),
    ("f5", "The user lives in Paris"),
    ("f6", "Sushi, sushi, always sushi!"),
]


def bm25(tf: int, dl: int, df: int, docs: int, avgdl: float) -> float:
    """One term's BM25 score, written out independently of the stores."""
    idf = max(math.log((docs - df + 0.5) / (df + 0.5)), 1e-6)
    return idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / avgdl))


async def test_text_scores_are_bm25_over_the_users_own_records(
    store: GraphStore, sample: Sample
) -> None:
    facts = [sample.fact("alice", fid, text) for fid, text in ALICE_FACTS]
    await store.apply(WriteSet("alice", facts=facts))
    hits = await store.search_text("alice", "fact", "sushi?", 5)
    docs, avgdl = 6, 27 / 6
    assert [h.id for h in hits] == ["f6", "f1", "f2"]  # a repeated word counts each time
    assert [h.score for h in hits] == pytest.approx(
        [bm25(3, 4, 3, docs, avgdl), bm25(1, 4, 3, docs, avgdl), bm25(1, 6, 3, docs, avgdl)],
        rel=1e-9,
    )
    # Two words: the scores add; "Loves" and "love" are one stemmed term.
    hits = await store.search_text("alice", "fact", "Loves ramen", 5)
    assert [h.id for h in hits] == ["f2", "f1"]
    assert [h.score for h in hits] == pytest.approx(
        [bm25(1, 6, 2, docs, avgdl) + bm25(1, 6, 1, docs, avgdl), bm25(1, 4, 2, docs, avgdl)],
        rel=1e-9,
    )


def _crowd(sample: Sample, n: int) -> WriteSet:
    """Many records of another user sharing alice's words, at other lengths."""
    facts = [
        sample.fact("bob", f"b{i}", "sushi " * (1 + i % 7) + f"ramen rust paris note {i}")
        for i in range(n)
    ]
    episodes = [
        sample.episode("bob", f"be{i}", f"sushi and ramen in paris, day {i} " * (1 + i % 3))
        for i in range(n)
    ]
    entities = [
        sample.entity("bob", f"bn{i}", f"Sushi Bar {i}", aliases=("Paris ramen",)) for i in range(n)
    ]
    return WriteSet("bob", episodes=episodes, entities=entities, facts=facts)


async def test_other_users_records_do_not_change_a_users_ranking(
    store: GraphStore, sample: Sample
) -> None:
    facts = [sample.fact("alice", fid, text) for fid, text in ALICE_FACTS]
    episodes = [
        sample.episode("alice", "e1", "Had sushi with Zoë in Paris", day=1),
        sample.episode("alice", "e2", "Ramen again, the third time this week", day=2),
        sample.episode("alice", "e3", "Writing Rust all day", day=3),
    ]
    entities = [
        sample.entity("alice", "n1", "Sushi Saito", aliases=("Saito",)),
        sample.entity("alice", "n2", "Paris", kind="place"),
    ]
    await store.apply(WriteSet("alice", episodes=episodes, entities=entities, facts=facts))
    queries = {
        "fact": ["sushi", "loves ramen", "rust paris", "the user"],
        "episode": ["sushi paris", "ramen week", "rust"],
        "entity": ["sushi", "paris saito"],
    }

    async def ranking() -> dict[tuple[str, str], list[Hit]]:
        return {
            (target, text): await store.search_text("alice", target, text, 10)  # type: ignore[arg-type]
            for target, texts in queries.items()
            for text in texts
        }

    before = await ranking()
    assert all(before.values())
    await store.apply(_crowd(sample, 300))
    assert await ranking() == before  # same ids, same order, same scores
    await store.forget_user("bob")
    assert await ranking() == before


def _unit(degrees: float, dim: int = 16) -> np.ndarray:
    v = np.zeros(dim, dtype=np.float32)
    v[0], v[1] = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return v


@pytest.mark.parametrize("target", ["fact", "episode", "entity"])
async def test_vector_scores_are_cosine_similarity(
    store: GraphStore, sample: Sample, target: str
) -> None:
    # Identical, 60 degrees, orthogonal, 120 degrees, opposite; lengths differ on purpose.
    angles = {"same": 0.0, "near": 60.0, "orthogonal": 90.0, "far": 120.0, "opposite": 180.0}
    vectors = {rid: _unit(a) * (1.0 + i) for i, (rid, a) in enumerate(angles.items())}
    if target == "fact":
        writes = WriteSet(
            "alice",
            facts=[sample.fact("alice", rid, f"fact {rid}") for rid in vectors],
            fact_vectors=vectors,
        )
    elif target == "episode":
        writes = WriteSet(
            "alice",
            episodes=[sample.episode("alice", rid, f"episode {rid}") for rid in vectors],
            episode_vectors=vectors,
        )
    else:
        writes = WriteSet(
            "alice",
            entities=[sample.entity("alice", rid, f"entity {rid}") for rid in vectors],
            entity_vectors=vectors,
        )
    await store.apply(writes)
    hits = await store.search_vector("alice", target, _unit(0.0) * 0.5, 5)  # type: ignore[arg-type]
    assert [h.id for h in hits] == list(angles)
    cosines = [math.cos(math.radians(a)) for a in angles.values()]
    assert [h.score for h in hits] == pytest.approx(cosines, abs=1e-5)


async def test_a_capped_candidate_set_keeps_the_users_document_frequencies(
    store: GraphStore, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every store scores at most `score_window` matches, the newest, with document frequencies
    # from all of the user's matches, and drops a word found in more records than that.
    texts = ["sushi and ramen", "ramen", "tea", "more sushi", "green tea"]
    texts += [f"something else {i}" for i in range(6)]  # 2 of 11 hold each word: idf > 0
    facts = [sample.fact("alice", f"f{i}", t, recorded=i) for i, t in enumerate(texts)]
    await store.apply(WriteSet("alice", facts=facts))
    full = {h.id: h.score for h in await store.search_text("alice", "fact", "ramen tea", 9)}
    monkeypatch.setattr(store, "score_window", 3)  # only the newest 3 matches
    capped = await store.search_text("alice", "fact", "ramen tea", 9)
    assert sorted(h.id for h in capped) == ["f1", "f2", "f4"]  # f0 fell out of the window
    assert all(h.score == pytest.approx(full[h.id]) for h in capped)  # idf from every match
    # "else" is in 6 records, more than the window: the rarer word decides alone.
    rare = await store.search_text("alice", "fact", "else sushi", 9)
    assert sorted(h.id for h in rare) == ["f0", "f3"]


async def test_several_query_vectors_search_as_each_alone(
    store: GraphStore, sample: Sample
) -> None:
    # ``search_vectors`` (one pass over the matrix on SQLite) answers each query vector
    # exactly as ``search_vector`` does, in the order given, scoped to the user.
    angles = {"a": 0.0, "b": 30.0, "c": 75.0, "d": 140.0, "e": 200.0}
    vectors = {rid: _unit(deg) * (1.0 + i) for i, (rid, deg) in enumerate(angles.items())}
    facts = [sample.fact("alice", rid, f"fact {rid}") for rid in vectors]
    await store.apply(WriteSet("alice", facts=facts, fact_vectors=vectors))
    bob = sample.fact("bob", "a", "fact a")
    await store.apply(WriteSet("bob", facts=[bob], fact_vectors={"a": _unit(100.0)}))
    queries = [_unit(100.0), _unit(10.0) * 3, _unit(180.0)]
    together = await store.search_vectors("alice", "fact", queries, 3)
    alone = [await store.search_vector("alice", "fact", q, 3) for q in queries]
    assert [[h.id for h in hits] for hits in together] == [[h.id for h in hits] for hits in alone]
    for hits, each in zip(together, alone, strict=True):
        assert [h.score for h in hits] == pytest.approx([h.score for h in each], abs=1e-5)
    assert [h.id for h in together[1]] == ["a", "b", "c"]
    assert await store.search_vectors("alice", "fact", [], 3) == []
