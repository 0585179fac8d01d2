"""Cypher-store helpers for ranking: the searchable text stored on nodes, vector parameters.

The servers' own analysers and scores differ from each other and from SQLite's FTS5
(RediSearch stems with Snowball and scores TF-IDF; Lucene's analysers vary). The store
therefore indexes pre-tokenised text (:func:`text_props`), uses the server's full-text index
only to find candidate nodes, and ranks them with the BM25 every backend shares
(:mod:`memory_graph.stores._ranking`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memory_graph.stores._ranking import index_text
from memory_graph.stores.cypher.queries import TEXT_LEN_PROP, TEXT_PROP

__all__ = ["text_props", "vector_param"]


def vector_param(vector: np.ndarray) -> list[float]:
    """A float32 vector as the shortest floats that round-trip it (9 significant digits).

    Parameters travel as text on FalkorDB's native protocol: ``0.1`` rather than
    ``0.10000000149011612`` nearly halves a 384-d vector's bytes, and the server's float32
    is the same value either way.
    """
    return [float(text) for text in np.char.mod("%.9g", vector.astype(np.float32))]


def text_props(*parts: str | None) -> dict[str, Any]:
    """The node properties holding a record's searchable words and their count."""
    text, length = index_text(*parts)
    return {TEXT_PROP: text, TEXT_LEN_PROP: length}
