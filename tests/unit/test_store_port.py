"""The store port itself: which primitives are required, and that the optional ones'
defaults (written on the required primitives) agree with a backend's own overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlane.memory_graph.model import WriteSet
from memlane.memory_graph.stores import GraphStore
from memlane.memory_graph.stores.base import OPTIONAL, REQUIRED
from memlane.memory_graph.stores.sqlite import SQLiteStore
from tests.conftest import Sample

pytestmark = pytest.mark.unit


class DefaultsStore(SQLiteStore):
    """SQLite with its optional overrides removed: the port's defaults run on its primitives."""

    count_matches = GraphStore.count_matches
    search_vectors = GraphStore.search_vectors
    export = GraphStore.export  # type: ignore[assignment]
    export_page = 2


def test_the_required_primitives_are_exactly_the_abstract_methods() -> None:
    assert GraphStore.__abstractmethods__ == REQUIRED
    assert not REQUIRED & OPTIONAL
    for name in OPTIONAL:
        assert callable(getattr(GraphStore, name))


async def _filled(store: GraphStore, sample: Sample) -> None:
    await store.open()
    words = ["tea", "green tea", "tea and cake", "coffee", "more tea"]
    await store.apply(
        WriteSet(
            "alice",
            episodes=[sample.episode("alice", f"ep{i}", w, day=i) for i, w in enumerate(words)],
            entities=[sample.entity("alice", f"e{i}", w) for i, w in enumerate(words)],
            facts=[sample.fact("alice", f"f{i}", w, recorded=i) for i, w in enumerate(words)],
            fact_vectors={"f1": sample.vec("green tea")},
        )
    )


async def test_default_export_pages_through_scan_like_the_snapshot_export(
    tmp_path: Path, sample: Sample
) -> None:
    own = SQLiteStore(tmp_path / "own.db")
    paged = DefaultsStore(tmp_path / "paged.db")
    try:
        for store in (own, paged):
            await _filled(store, sample)
        expected = [r async for r in own.export("alice")]
        assert len(expected) == 15
        assert [r async for r in paged.export("alice")] == expected
    finally:
        await own.close()
        await paged.close()


async def test_default_count_matches_counts_text_matches(tmp_path: Path, sample: Sample) -> None:
    own = SQLiteStore(tmp_path / "own.db")
    plain = DefaultsStore(tmp_path / "plain.db")
    try:
        for store in (own, plain):
            await _filled(store, sample)
        for cap in (2, 10):
            counts = [await s.count_matches("alice", "fact", "tea", cap) for s in (own, plain)]
            assert counts == [min(cap, 4)] * 2
        for store in (own, plain):
            store.score_window = 2  # the window overflows: the counts decide the idf
        assert await plain.search_text("alice", "fact", "tea cake", 5) == await own.search_text(
            "alice", "fact", "tea cake", 5
        )
    finally:
        await own.close()
        await plain.close()


async def test_default_search_vectors_searches_each_vector(tmp_path: Path, sample: Sample) -> None:
    own = SQLiteStore(tmp_path / "own.db")
    plain = DefaultsStore(tmp_path / "plain.db")
    try:
        for store in (own, plain):
            await _filled(store, sample)
            await store.apply(WriteSet("alice", fact_vectors={"f2": sample.vec("tea and cake")}))
        queries = [sample.vec("green tea"), sample.vec("cake")]
        expected = [await own.search_vector("alice", "fact", q, 5) for q in queries]
        assert all(len(hits) == 2 for hits in expected)
        for store in (own, plain):
            found = await store.search_vectors("alice", "fact", queries, 5)
            assert [[h.id for h in hits] for hits in found] == [
                [h.id for h in hits] for hits in expected
            ]
    finally:
        await own.close()
        await plain.close()
