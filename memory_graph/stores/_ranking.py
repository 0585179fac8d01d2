"""Full-text ranking shared by every backend: the same words and the same BM25 everywhere.

Each backend uses its own full-text index (SQLite FTS5, RediSearch, Lucene) only to *find*
candidate records of one user. The candidates are ranked here, from the pre-tokenised text
every backend stores beside each record (:func:`index_text`), with BM25 whose statistics
(number of documents, average length, document frequencies) are the user's own. One user's
ranking therefore never depends on another user's data, and every backend ranks alike.

The words are those of SQLite's FTS5 tokenizer ``porter unicode61 remove_diacritics 2``
(case- and accent-folded runs of letters and digits, Porter-stemmed), so the candidates an
FTS5 ``MATCH`` finds are the records holding a query word here. Stored token text is
derived from this module: if :func:`words` ever changes, a store migration must recompute it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import snowballstemmer

from memlane.memory_graph.stores._text import query_terms
from memlane.memory_graph.stores._types import Hit

__all__ = [
    "SCORE_WINDOW",
    "Corpus",
    "bm25",
    "index_text",
    "keep_rare",
    "search_terms",
    "term_counts",
    "top_hits",
    "words",
]

SCORE_WINDOW = 1000
"""At most this many full-text matches are scored per search; words found in more of a
user's records are dropped while rarer ones remain (every store's ``search_text``)."""

Matrix: TypeAlias = npt.NDArray[np.float64]
Vector: TypeAlias = npt.NDArray[np.float64]

K1, B = 1.2, 0.75
"""BM25 parameters (FTS5's)."""

_WORD = re.compile(r"[^\W_]+")
_PORTER = snowballstemmer.stemmer("porter")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # FTS5's porter tokenizer leaves words of one or two characters alone.
    return word if len(word) < 3 else _PORTER.stemWord(word)


def words(text: str) -> list[str]:
    """Text as full-text search sees it: folded, Porter-stemmed words, in order.

    Args:
        text: any text (never raises).

    Returns:
        The words, the way FTS5's ``porter unicode61 remove_diacritics 2`` tokenises them.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [_stem(w) for w in _WORD.findall(stripped.casefold())]


def index_text(*parts: str | None) -> tuple[str, int]:
    """The searchable text a store keeps beside a record, and its length in words.

    Args:
        *parts: the record's searchable fields (``None`` and empty ones are skipped).

    Returns:
        ``(words joined by single spaces, number of words)``.
    """
    tokens = words(" ".join(p for p in parts if p))
    return " ".join(tokens), len(tokens)


def search_terms(text: str) -> list[str]:
    """The distinct stemmed terms BM25 scores for a query (see ``_text.query_terms``)."""
    return list(dict.fromkeys(w for t in query_terms(text) for w in words(t)))


@dataclass(frozen=True)
class Corpus:
    """One user's documents of one search target: how many, and their total length."""

    docs: int
    words: int

    @property
    def avgdl(self) -> float:
        """Mean words per document (0 for an empty corpus)."""
        return self.words / self.docs if self.docs else 0.0


def term_counts(texts: Sequence[str | None], terms: Sequence[str]) -> tuple[Matrix, Vector]:
    """How often each term occurs in each stored token text, and each text's length.

    Args:
        texts: stored token texts (:func:`index_text`).
        terms: stemmed query terms (:func:`search_terms`).

    Returns:
        ``(tf, dl)``: an ``len(texts) x len(terms)`` matrix of whole-word counts and the
        number of words of each text.
    """
    split = [(t or "").split() for t in texts]
    tf = np.array([[ws.count(t) for t in terms] for ws in split], dtype=np.float64)
    dl = np.fromiter(map(len, split), dtype=np.float64, count=len(split))
    return tf.reshape(len(split), len(terms)), dl


def bm25(tf: Matrix, dl: Vector, corpus: Corpus, df: Sequence[int] | None = None) -> Vector:
    """FTS5's BM25 (k1 1.2, b 0.75, idf floored at 1e-6) of candidate documents.

    Args:
        tf: term counts, one row per candidate and one column per query term.
        dl: each candidate's length in words.
        corpus: the user's statistics for this search target.
        df: the user's document frequency of each term, needed when the candidates are
            not every document of the user holding a term (a capped candidate set); by
            default it is counted over the candidates.

    Returns:
        One score per candidate, higher is better: positive when the candidate holds a
        term, 0 when it holds none (an index that matched it through its own analyser).
    """
    if tf.size == 0:
        return np.zeros(tf.shape[0], dtype=np.float64)
    hits = (tf > 0).sum(axis=0)
    if df is not None:
        hits = np.maximum(hits, np.asarray(df))
    # Statistics may lag a concurrent write by a moment: never fewer documents than seen.
    docs = max(corpus.docs, int(tf.any(axis=1).sum()), int(hits.max()))
    idf = np.maximum(np.log((docs - hits + 0.5) / (hits + 0.5)), 1e-6)
    norm = K1 * (1 - B + B * dl / (corpus.avgdl or 1.0))
    scored: Vector = (idf * tf * (K1 + 1) / (tf + norm[:, None])).sum(axis=1)
    return scored


def keep_rare(words: Sequence[str], df: dict[str, int], window: int) -> list[str]:
    """The words found in at most ``window`` records (``df``), or the rarest if none is.

    A word in more records than are scored would flood the window with matches its small
    BM25 weight barely ranks; rarer words of the query decide instead.
    """
    kept = [w for w in words if df[w] <= window]
    return kept or [min(words, key=lambda w: df[w])]


def top_hits(ids: Sequence[str], scores: Vector, k: int) -> list[Hit]:
    """The ``k`` best candidates with a positive score: score descending, then id."""
    idx = np.flatnonzero(scores > 0)
    if len(idx) > k > 0:
        # Everything scoring at least the k-th best (ties included), then an exact sort.
        best = scores[idx]
        idx = idx[best >= np.partition(best, len(best) - k)[len(best) - k]]
    values: list[float] = scores.tolist()
    order = sorted(idx.tolist(), key=lambda i: (-values[i], ids[i]))[: max(k, 0)]
    return [Hit(ids[i], values[i]) for i in order]
