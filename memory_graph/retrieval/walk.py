"""Personalised PageRank over a small undirected graph, on numpy arrays.

The same power iteration as ``networkx.pagerank`` (uniform start, personalised teleport,
dangling mass sent by the personalisation, stop when the L1 change is under ``n * tol``),
without building a ``networkx.Graph`` and converting it to a scipy matrix on every call: for
the few hundred nodes of one recall's candidate neighbourhood, that construction cost more
than the walk.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

import numpy as np

__all__ = ["personalised_pagerank"]

N = TypeVar("N", bound=Hashable)


def personalised_pagerank(
    edges: Iterable[tuple[N, N]],
    personal: Mapping[N, float],
    *,
    alpha: float = 0.85,
    max_iter: int = 100,
    tol: float = 1e-6,
) -> dict[N, float]:
    """PageRank of every node of the undirected graph ``edges`` (repeated edges count once),
    teleporting to ``personal`` (weights, normalised here; nodes not in the graph ignored).

    Returns:
        Node -> rank (summing to 1); empty when the graph or the personalisation is.
    """
    index: dict[N, int] = {}
    pairs: set[tuple[int, int]] = set()
    for a, b in edges:
        i, j = index.setdefault(a, len(index)), index.setdefault(b, len(index))
        if i != j:
            pairs.add((min(i, j), max(i, j)))
    n = len(index)
    p = np.zeros(n)
    for node, weight in personal.items():
        if node in index:
            p[index[node]] = weight
    if n == 0 or p.sum() <= 0:
        return {}
    p /= p.sum()
    ends = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    src = np.concatenate([ends[:, 0], ends[:, 1]])
    dst = np.concatenate([ends[:, 1], ends[:, 0]])
    degree = np.bincount(src, minlength=n).astype(float)
    dangling = degree == 0
    share = np.divide(1.0, degree, out=np.zeros(n), where=~dangling)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        last = x
        spread = np.bincount(dst, weights=last[src] * share[src], minlength=n)
        x = alpha * (spread + last[dangling].sum() * p) + (1 - alpha) * p
        if np.abs(x - last).sum() < n * tol:
            break
    return dict(zip(index, x.tolist(), strict=True))
