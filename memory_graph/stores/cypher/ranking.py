"""Cypher-store helpers for ranking: the searchable text stored on nodes, vector parameters.

The servers' own analysers and scores differ from each other and from SQLite's FTS5
(RediSearch stems with Snowball and scores TF-IDF; Lucene's analysers vary). The store
therefore indexes pre-tokenised text (:func:`text_props`), uses the server's full-text index
only to find candidate nodes, and ranks them with the BM25 every backend shares
(:mod:`memlane.memory_graph.stores._ranking`).

The full-text index is one per label, shared by every user of the graph. So the stored text
starts with a token naming its user (:func:`user_token`), and a search requires it: the
index itself returns only that user's candidates, however many other users share the graph.
``python -m bench.tenants``: with 40 other users' 80k facts in the graph, a search took 2.2 ms
p50 against 8.9 ms for the index-wide query it replaced (the same hits for 100/100 queries),
and it stayed flat as users joined while the index-wide one grew with them. The ``user_id``
filter after the index stays as the guarantee.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np

from memlane.memory_graph.stores._ranking import index_text
from memlane.memory_graph.stores.cypher.queries import TEXT_LEN_PROP, TEXT_PROP

__all__ = ["indexed_words", "text_props", "user_token", "vector_param"]


def vector_param(vector: np.ndarray) -> list[float]:
    """A float32 vector as the shortest floats that round-trip it (9 significant digits).

    Parameters travel as text on FalkorDB's native protocol: ``0.1`` rather than
    ``0.10000000149011612`` nearly halves a 384-d vector's bytes, and the server's float32
    is the same value either way.
    """
    return [float(text) for text in np.char.mod("%.9g", vector.astype(np.float32))]


@lru_cache(maxsize=4096)
def user_token(user_id: str) -> str:
    """The word that marks a user's records in the shared full-text index.

    Letters and digits only (every analyser keeps it whole), never a stemmed English word,
    and 80 bits of a hash: two users sharing one would only lose the index's pre-filter, not
    isolation (the query still filters on ``user_id``). SQLite's FTS tables hold the whole
    id in hex instead (``sqlite._sql.owner_token``, in a column of its own); here the token
    shares the indexed text, and Lucene's whitespace tokenizer cuts tokens at 255
    characters, which a 128-character id in hex would pass, so a fixed length.
    """
    return "u" + hashlib.blake2b(user_id.encode(), digest_size=10).hexdigest()


def text_props(user_id: str, *parts: str | None) -> dict[str, Any]:
    """The node properties holding a record's searchable words (after the user's token) and
    their count (without it)."""
    text, length = index_text(*parts)
    return {TEXT_PROP: f"{user_token(user_id)} {text}".rstrip(), TEXT_LEN_PROP: length}


def indexed_words(stored: str | None, user_id: str) -> str:
    """The record's own words of a stored searchable text (its user's token removed)."""
    words = stored or ""
    token = user_token(user_id)
    if words == token or words.startswith(token + " "):
        return words[len(token) + 1 :]
    return words
