"""Full-text ranking shared by both servers: FTS5-identical words and FTS5's BM25.

The servers' own analysers and scores differ from each other and from SQLite's FTS5
(RediSearch stems with Snowball and scores TF-IDF; Lucene's analysers vary). The store
therefore indexes pre-tokenised text (:func:`words`), uses the server's full-text index only
to find candidate nodes, and ranks them here with the BM25 of FTS5, so every backend ranks
alike.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

import numpy as np
import snowballstemmer

from memory_graph.stores.cypher.queries import TEXT_LEN_PROP, TEXT_PROP
from memory_graph.stores.cypher.session import Rows

__all__ = ["bm25", "text_props", "vector_param", "words"]

_WORD = re.compile(r"[^\W_]+")
_BM25_K1, _BM25_B = 1.2, 0.75


_PORTER = snowballstemmer.stemmer("porter")


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    # FTS5's porter tokenizer leaves words of one or two characters alone.
    return word if len(word) < 3 else _PORTER.stemWord(word)


def words(text: str) -> list[str]:
    """Text as the words full-text search sees, the way SQLite's FTS5 tokenises it
    (``porter unicode61 remove_diacritics 2``): case- and accent-folded runs of letters and
    digits, Porter-stemmed.

    RediSearch and Lucene analyse text differently (stemmers, diacritics, underscores), so
    the store indexes this pre-tokenised form and ranks the matches itself.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [_stem(w) for w in _WORD.findall(stripped.casefold())]


def vector_param(vector: np.ndarray) -> list[float]:
    """A float32 vector as the shortest floats that round-trip it (9 significant digits).

    Parameters travel as text on FalkorDB's native protocol: ``0.1`` rather than
    ``0.10000000149011612`` nearly halves a 384-d vector's bytes, and the server's float32
    is the same value either way.
    """
    return [float(text) for text in np.char.mod("%.9g", vector.astype(np.float32))]


def text_props(*parts: str | None) -> dict[str, Any]:
    tokens = words(" ".join(p for p in parts if p))
    return {TEXT_PROP: " ".join(tokens), TEXT_LEN_PROP: len(tokens)}


def bm25(rows: Rows, terms: list[str], docs: int, avgdl: float) -> list[tuple[str, float]]:
    """FTS5's bm25 (k1 1.2, b 0.75, idf floored at 1e-6) of the rows that hold a term.

    Rows the engine matched only through its own stemming hold no exact term and drop out.
    Term counts come from numpy over all rows at once (thousands of candidates per query on
    a large graph).
    """
    if not rows or not terms:
        return []
    split = [str(r["text"] or "").split() for r in rows]
    tf = np.array([[ws.count(t) for t in terms] for ws in split], dtype=np.float64)
    dl = np.fromiter((len(ws) for ws in split), dtype=np.float64, count=len(split))
    keep = tf.any(axis=1)
    hits = (tf[keep] > 0).sum(axis=0)
    n_docs = max(docs, int(keep.sum()))
    idf = np.maximum(np.log((n_docs - hits + 0.5) / (hits + 0.5)), 1e-6)
    norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * dl / (avgdl or 1.0))
    scores = (idf * tf * (_BM25_K1 + 1) / (tf + norm[:, None])).sum(axis=1)
    kept: list[bool] = np.asarray(keep, dtype=bool).tolist()
    return [(str(r["id"]), float(x)) for r, x, k in zip(rows, scores, kept, strict=True) if k]
