"""The numpy personalised PageRank gives networkx's ranks."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from memlane.memory_graph.retrieval.walk import personalised_pagerank

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("seed", range(5))
def test_same_ranks_as_networkx(seed: int) -> None:
    rng = random.Random(seed)
    edges = [(("f", rng.randrange(60)), ("e", rng.randrange(15))) for _ in range(150)]
    personal = {("e", 0): 1.0, ("e", 3): 0.3, ("f", 5): 0.2, ("x", 1): 5.0}  # ("x", 1): absent
    graph = nx.Graph(edges)
    expected = nx.pagerank(
        graph,
        alpha=0.85,
        personalization={n: w for n, w in personal.items() if n in graph},
        tol=1e-10,
        max_iter=500,
    )
    got = personalised_pagerank(edges, personal, alpha=0.85, tol=1e-10, max_iter=500)
    assert got.keys() == expected.keys()
    assert max(abs(got[n] - expected[n]) for n in got) < 1e-8


def test_empty_graph_or_personalisation() -> None:
    assert personalised_pagerank([], {"a": 1.0}) == {}
    assert personalised_pagerank([("a", "b")], {"c": 1.0}) == {}
