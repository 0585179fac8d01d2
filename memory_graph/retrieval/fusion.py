"""Score arithmetic for retrieval: reciprocal rank fusion, time factors, de-duplication.

Pure functions and one small accumulator; no I/O.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from memlane.memory_graph.model import Fact, normalise_name
from memlane.memory_graph.stores.base import Hit

__all__ = ["Scores", "dedup", "overlaps", "recency"]


class Scores:
    """Fused scores of one kind of record (facts or episodes), with the legs that found each."""

    def __init__(self) -> None:
        self.score: dict[str, float] = defaultdict(float)
        # Which legs found an id is asked only of the few shown, so a whole leg is kept as
        # the set of its ids (not a set of legs per id, a few hundred updates a recall).
        self._legs: list[tuple[str, set[str]]] = []
        self._added: dict[str, set[str]] = defaultdict(set)

    def add_leg(self, ids: Iterable[str], weight: float, rrf_k: float, leg: str) -> None:
        """Reciprocal rank fusion: the item at rank r (0-based) gains ``weight / (k + r + 1)``."""
        if weight <= 0:
            return
        score = self.score
        found = list(ids)
        for rank, rid in enumerate(found, start=1):
            score[rid] += weight / (rrf_k + rank)
        self._legs.append((leg, set(found)))

    def add_hits(
        self, hits: Sequence[Hit], weight: float, rrf_k: float, leg: str, by_score: float
    ) -> None:
        """Reciprocal rank fusion of a search leg, plus ``by_score`` times the hit's score as
        a share of the leg's best, on the scale of the top rank (``1 / (k + 1)``): a leg
        whose second hit is nearly as good as its first says so, which ranks alone cannot."""
        self.add_leg([h.id for h in hits], weight, rrf_k, leg)
        peak = max((h.score for h in hits), default=0.0)
        if weight <= 0 or by_score <= 0 or peak <= 0:
            return
        score, share = self.score, weight * by_score / peak / (rrf_k + 1)
        for h in hits:
            if h.score > 0:
                score[h.id] += share * h.score

    def add(self, rid: str, value: float, leg: str) -> None:
        self.score[rid] += value
        self._added[rid].add(leg)

    def sources(self, rid: str) -> tuple[str, ...]:
        """The legs that found ``rid``, sorted."""
        legs = {leg for leg, ids in self._legs if rid in ids}
        legs.update(self._added.get(rid, ()))
        return tuple(sorted(legs))

    def keep(self, ids: Iterable[str]) -> None:
        """Forget every id not in ``ids`` (filtered out, e.g. by ``as_of``)."""
        wanted = set(ids)
        for rid in [r for r in self.score if r not in wanted]:
            del self.score[rid]

    def top(self, n: int) -> list[str]:
        """The ``n`` best ids, best first, ties by id."""
        # Keys built as tuples and compared in C: a key function per item costs more than
        # the sort itself at a few hundred items.
        keyed = [(-value, rid) for rid, value in self.score.items()]
        best = heapq.nsmallest(n, keyed) if n < len(keyed) // 4 else sorted(keyed)[:n]
        return [rid for _, rid in best]


def overlaps(fact: Fact, start: datetime, end: datetime) -> bool:
    """True when the fact began inside ``[start, end)``, or was true during part of it."""
    began = fact.start
    if began >= end:
        return False
    if began >= start:
        return True
    return fact.invalid_at is not None and fact.invalid_at > start


def recency(when: datetime, reference: datetime | None, weight: float, half_life: float) -> float:
    """``1 + weight`` for something as new as ``reference``, halving toward 1 every half-life."""
    if weight <= 0 or reference is None:
        return 1.0
    age_days = max((reference - when).total_seconds() / 86400.0, 0.0)
    return 1.0 + weight * 0.5 ** (age_days / half_life)


def _tokens(text: str) -> frozenset[str]:
    return frozenset(normalise_name(text).split())


def dedup(
    ordered: Iterable[str], text: Callable[[str], str], threshold: float, limit: int
) -> list[str]:
    """The first ``limit`` items, skipping near-copies (word-set Jaccard >= threshold) of
    better ones.

    Args:
        ordered: ids, best first.
        text: the text of an id (asked only of the ids the scan reaches).
        threshold: 1.0 drops only identical word sets.
        limit: how many to keep (the scan stops there, so its cost is ``limit`` squared).
    """
    kept: list[str] = []
    kept_tokens: list[frozenset[str]] = []
    for rid in ordered:
        if len(kept) >= limit:
            break
        toks = _tokens(text(rid))
        if any(_similar(toks, other, threshold) for other in kept_tokens):
            continue
        kept.append(rid)
        kept_tokens.append(toks)
    return kept


def _similar(a: frozenset[str], b: frozenset[str], threshold: float) -> bool:
    small, large = len(a), len(b)
    if small > large:
        small, large = large, small
    if large == 0:
        return True
    # Jaccard is at most the smaller set's share of the larger: most pairs stop here.
    if small / large < threshold:
        return False
    return len(a & b) / len(a | b) >= threshold
