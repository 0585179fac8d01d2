"""Full-text search written once above the port: query words, the scoring window, BM25.

A backend supplies two primitives (``GraphStore.text_matches`` and, optionally, a fast
``GraphStore.count_matches``); the policy here decides which words are searched, how many
matches are scored and with which statistics, so every backend ranks alike and a user's
scores depend on that user's records alone.

The window: at most ``store.score_window`` matching records, the newest, are scored. Words
found in more than that many of the user's records are dropped while rarer ones remain
(their BM25 weight is small and they would flood the window); when more records match than
are scored, each term's document frequency is the index's count (capped at
``score_window + 1``) instead of the count among the scored candidates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.stores._ranking import Corpus, Matrix, Vector, bm25, keep_rare, top_hits
from memlane.memory_graph.stores._ranking import words as stems_of
from memlane.memory_graph.stores._text import query_terms
from memlane.memory_graph.stores._types import Hit, SearchTarget

if TYPE_CHECKING:
    from memlane.memory_graph.stores.base import GraphStore

__all__ = ["TextMatches", "TextQuery", "search_text"]

_TARGETS = ("fact", "episode", "entity")


@dataclass(frozen=True)
class TextQuery:
    """What a full-text index is asked: the query's words and the terms BM25 counts.

    ``words`` are user words (letters and digits, lower-cased; ``_text.query_terms``), for an
    index that analyses its queries itself (SQLite FTS5's porter tokenizer). ``terms`` are
    their distinct stems (``_ranking.words``), for an index over pre-stemmed text and for
    counting. A backend quotes every word or term as a literal; neither is query syntax.
    """

    words: tuple[str, ...]
    terms: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        terms = dict.fromkeys(t for w in self.words for t in stems_of(w))
        object.__setattr__(self, "terms", tuple(terms))

    @classmethod
    def of(cls, text: str) -> TextQuery:
        """The query for arbitrary user text (never raises)."""
        return cls(tuple(w for w in query_terms(text) if stems_of(w)))


@dataclass(frozen=True)
class TextMatches:
    """A user's records holding a query word, with what BM25 needs to rank them.

    Attributes:
        ids: the records found, newest first (at most the limit asked for).
        tf: ``len(ids) x len(query.terms)`` whole-word counts of each term in each record.
        dl: each record's length in words.
        corpus: the user's document count and total length for this target.
    """

    ids: list[str]
    tf: Matrix
    dl: Vector
    corpus: Corpus

    @classmethod
    def none(cls, n_terms: int) -> TextMatches:
        """No match."""
        return cls([], np.zeros((0, n_terms)), np.zeros(0), Corpus(0, 0))

    def head(self, n: int) -> TextMatches:
        """The newest ``n`` matches."""
        return TextMatches(self.ids[:n], self.tf[:n], self.dl[:n], self.corpus)


async def search_text(
    store: GraphStore, user_id: str, target: SearchTarget, text: str, k: int
) -> list[Hit]:
    """BM25 over the user's matching records with the user's own statistics (see module).

    Raises:
        InputError: ``target`` is not ``fact``, ``episode`` or ``entity``.
    """
    if target not in _TARGETS:
        raise InputError(
            f"unknown search target {target!r}; expected one of {', '.join(_TARGETS)}",
            where="target",
        )
    query = TextQuery.of(text)
    if not query.terms or k <= 0:
        return []
    window = store.score_window
    by_word: dict[str, int] = {}
    if len(query.words) > 1:
        # Counted first (capped, one cheap index count per word, all in one round trip), so
        # a word too common to score is dropped before any match is fetched: one fetch of
        # at most the window, instead of a full window and then a second fetch without it.
        counts = await asyncio.gather(
            *(store.count_matches(user_id, target, w, window + 1) for w in query.words)
        )
        by_word = dict(zip(query.words, counts, strict=True))
        kept = keep_rare(query.words, by_word, window)
        if not any(by_word.values()):
            return []
        if list(kept) != list(query.words):
            query = TextQuery(tuple(kept))
    found = await store.text_matches(user_id, target, query, window + 1)
    if not found.ids:
        return []
    df: Sequence[int] | None = None
    if len(found.ids) > window:
        # More match than are scored: the newest window, with each term's document
        # frequency from the index's counts (a single word: more than the window).
        found = found.head(window)
        freq: dict[str, int] = {}
        for w in query.words:
            for t in stems_of(w):
                freq[t] = max(freq.get(t, 0), by_word.get(w, window + 1))
        df = [freq.get(t, 0) for t in query.terms]
    return top_hits(found.ids, bm25(found.tf, found.dl, found.corpus, df), k)
