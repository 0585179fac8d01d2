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
    ends_a: list[int] = []
    ends_b: list[int] = []
    for a, b in edges:
        ends_a.append(index.setdefault(a, len(index)))
        ends_b.append(index.setdefault(b, len(index)))
    n = len(index)
    p = np.zeros(n)
    for node, weight in personal.items():
        if node in index:
            p[index[node]] = weight
    if n == 0 or p.sum() <= 0:
        return {}
    p /= p.sum()
    # Each undirected edge once (repeats and self-loops dropped), in (low, high) order.
    first, second = np.array(ends_a, dtype=np.int64), np.array(ends_b, dtype=np.int64)
    low, high = np.minimum(first, second), np.maximum(first, second)
    keys = np.unique(low[low != high] * n + high[low != high])
    lo, hi = keys // n, keys % n
    src = np.concatenate([lo, hi])
    dst = np.concatenate([hi, lo])
    degree = np.bincount(src, minlength=n).astype(float)
    dangling = degree == 0
    share = np.divide(1.0, degree, out=np.zeros(n), where=~dangling)[src]  # per edge end
    teleport = (1 - alpha) * p
    x = np.full(n, 1.0 / n)
    # Every node of an edge list has an edge, but a self-loop alone leaves its node none.
    any_dangling = bool(dangling.any())
    for _ in range(max_iter):
        last = x
        spread = np.bincount(dst, weights=last[src] * share, minlength=n)  # float64
        if any_dangling:
            spread += last[dangling].sum() * p
        x = alpha * spread + teleport
        if np.abs(x - last).sum() < n * tol:
            break
    return dict(zip(index, x.tolist(), strict=True))
