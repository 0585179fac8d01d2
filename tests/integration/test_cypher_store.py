"""What the contract suite does not pin down about the Cypher store, on a real FalkorDB and a
real Neo4j: the graph's shape, idempotent schema, vector dimensions, shared indexes, vector
index scores, batched reads."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import numpy as np
import pytest

from memlane.memory_graph.errors import StoreError
from memlane.memory_graph.model import WriteSet
from memlane.memory_graph.stores import GraphStore, open_store
from memlane.memory_graph.stores.cypher import CypherStore
from memlane.memory_graph.stores.cypher import store as cypher_store
from memlane.memory_graph.stores.cypher.queries import LABELS, SCHEMA_VERSION, TEXT_PROP
from memlane.memory_graph.stores.cypher.ranking import indexed_words, user_token
from tests.conftest import Sample
from tests.integration.falkordb_server import FalkorDBServer, falkordb_store
from tests.neo4j.fixtures import neo4j_url

pytestmark = pytest.mark.integration


@pytest.fixture(params=["falkordb", "neo4j"])
async def graph_url(request: pytest.FixtureRequest) -> str:
    """An empty graph on each Cypher server in turn (the URL with its credentials)."""
    if request.param == "neo4j":
        return neo4j_url(request, "main")
    server: FalkorDBServer = request.getfixturevalue("falkordb_server")
    store = await falkordb_store(request, server.data_dir, "extra")
    return server.url(store.url.rsplit("/", 1)[1])


@pytest.fixture
async def graph(graph_url: str) -> AsyncIterator[GraphStore]:
    store = open_store(graph_url)
    await store.open()
    yield store
    await store.close()


async def test_facts_are_nodes_linked_to_entities_and_episodes(
    graph: CypherStore, sample: Sample
) -> None:
    await graph.apply(sample.turn("alice", 1, facts=2))
    rows = await graph.session.read(
        "MATCH (a)-[r]->(b) RETURN labels(a)[0] AS a, type(r) AS t, r.user_id AS u, "
        "labels(b)[0] AS b ORDER BY t"
    )
    shape = sorted({(r["a"], r["t"], r["b"]) for r in rows})
    # The turn's facts have subject "self", which has no entity node yet.
    assert shape == [("Fact", "FROM", "Episode"), ("Fact", "OBJECT", "Entity")]
    assert {r["u"] for r in rows} == {"alice"}
    # An entity written after the facts that name it is linked to them.
    me = sample.entity("alice", "self", "Alice", kind="self")
    await graph.apply(WriteSet("alice", entities=[me]))
    rows = await graph.session.read(
        "MATCH (:Entity {id: 'self'})-[r:SUBJECT_OF]->(f:Fact) RETURN count(r) AS n"
    )
    assert rows[0]["n"] == 2


async def test_opening_twice_keeps_one_schema(graph: CypherStore, graph_url: str) -> None:
    again = open_store(graph_url)
    await again.open()
    info = await again.info()
    await again.close()
    assert info.ok, info.problems
    assert len(info.details["indexes"]) == len(set(info.details["indexes"]))


async def test_vectors_of_another_dimension_are_refused(graph: CypherStore, sample: Sample) -> None:
    await graph.apply(sample.turn("alice", 1))  # 64-d
    fact = sample.fact("alice", "f_odd", "odd")
    writes = WriteSet("alice", facts=[fact], fact_vectors={"f_odd": np.ones(8, np.float32)})
    with pytest.raises(StoreError, match="dimensions"):
        await graph.apply(writes)
    assert await graph.get_facts("alice", ["f_odd"]) == []


async def test_vector_search_finds_a_users_vectors_when_others_crowd_the_index(
    graph: CypherStore, sample: Sample
) -> None:
    query = sample.vec("the user visited place")
    crowd = [sample.fact("bob", f"b{i}", f"bob fact {i}") for i in range(60)]
    await graph.apply(WriteSet("bob", facts=crowd, fact_vectors={f.id: query for f in crowd}))
    mine = sample.fact("alice", "a1", "alice fact")
    far = -query
    await graph.apply(WriteSet("alice", facts=[mine], fact_vectors={"a1": far}))
    hits = await graph.search_vector("alice", "fact", query, 5)
    assert [h.id for h in hits] == ["a1"]
    assert hits[0].score == pytest.approx(-1.0, abs=1e-4)


async def test_concurrent_session_reads_share_one_statement_and_agree(
    graph: CypherStore, sample: Sample
) -> None:
    for n in range(1, 7):
        await graph.apply(
            WriteSet(
                "alice",
                episodes=[sample.episode("alice", f"e{n}", f"m{n}", day=n, session=f"s{n % 3}")],
            )
        )
    sessions = ["s0", "s1", "s2", "nope"]
    one_by_one = [await graph.episodes_in_session("alice", s, 2) for s in sessions]
    together = await asyncio.gather(*(graph.episodes_in_session("alice", s, 2) for s in sessions))
    assert together == one_by_one
    assert [e.id for e in one_by_one[0]] == ["e3", "e6"]
    assert one_by_one[3] == []


async def test_vector_index_scores_are_cosine_similarity(
    graph: CypherStore, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Users past _EXACT_MAX records are answered by the server's HNSW index. FalkorDB's score
    # is a cosine distance (measured: 1 - cos; not 1 - cos/2 as some documentation says);
    # Neo4j's quantized index is rescored exactly, (1 + cos) / 2.
    monkeypatch.setattr(cypher_store, "_EXACT_MAX", 0)
    angles = {"same": 0.0, "near": 60.0, "orthogonal": 90.0, "far": 120.0, "opposite": 180.0}

    def unit(degrees: float) -> np.ndarray:
        v = np.zeros(16, dtype=np.float32)
        v[0], v[1] = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        return v

    facts = [sample.fact("alice", rid, f"fact {rid}") for rid in angles]
    vectors = {rid: unit(a) * 2.0 for rid, a in angles.items()}
    await graph.apply(WriteSet("alice", facts=facts, fact_vectors=vectors))
    raw = await graph.session.read(
        graph.q.vector["fact"], graph._params("alice", n=5, v=[float(x) for x in unit(0.0)])
    )
    assert len(raw) == 5  # the index answered (not the exact scan)
    hits = await graph.search_vector("alice", "fact", unit(0.0), 5)
    assert [h.id for h in hits] == list(angles)
    cosines = [math.cos(math.radians(a)) for a in angles.values()]
    assert [h.score for h in hits] == pytest.approx(cosines, abs=1e-4)
    similarities = sorted((graph.dialect.similarity(r["score"]) for r in raw), reverse=True)
    assert similarities == pytest.approx(cosines, abs=1e-4)


async def test_full_text_index_returns_only_the_users_candidates(
    graph: CypherStore, sample: Sample
) -> None:
    for user in ("alice", "bob"):
        for n in range(1, 4):
            await graph.apply(sample.turn(user, n))
    query = graph.dialect.fulltext_query(["visit", "place"], user_token("alice"))
    # The index query alone, without the user_id filter the store adds after it.
    raw = await graph.session.read(
        f"{graph.dialect.fulltext_call('Fact', TEXT_PROP)} RETURN node.user_id AS u", {"q": query}
    )
    assert len(raw) == 9 and {r["u"] for r in raw} == {"alice"}
    hits = await graph.search_text("alice", "fact", "where did I visit a place", 20)
    assert len(hits) == 9


async def test_a_schema_1_graph_is_upgraded_on_open_and_searchable_again(
    graph: CypherStore, graph_url: str, sample: Sample
) -> None:
    for user in ("alice", "bob"):
        await graph.apply(sample.turn(user, 1))
    before = await graph.search_text("alice", "fact", "visited place", 10)
    # Make it a graph as schema 1 wrote it: texts without the user's token.
    for label in LABELS:
        rows = await graph.session.read(graph.q.scan_text[label], {"skip": 0, "limit": 100})
        old = [
            {"user_id": r["user_id"], "id": r["id"], "text": indexed_words(r["text"], r["user_id"])}
            for r in rows
        ]
        await graph.session.write(graph.q.set_text[label], {"rows": old})
    await graph.session.write(graph.q.write_meta, {"version": 1})
    assert await graph.search_text("alice", "fact", "visited place", 10) == []
    again = open_store(graph_url)
    await again.open()
    try:
        assert (await again.info()).details["schema_version"] == SCHEMA_VERSION == 2
        assert await again.search_text("alice", "fact", "visited place", 10) == before
        texts = await graph.session.read(graph.q.scan_text["Episode"], {"skip": 0, "limit": 9})
        assert [t["text"].split()[0] for t in texts] == [user_token("alice"), user_token("bob")]
    finally:
        await again.close()
