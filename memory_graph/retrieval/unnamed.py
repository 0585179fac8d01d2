"""The query's vector without its proper names, at the cost of embedding the names once.

"What do Melanie's kids like?" is searched twice: as asked, and as "what do kids like" (the
``w_unnamed`` legs), because a name pulls a vector search toward everything its person said
and the rest of the question toward what was said about its subject. Embedding the query
without its names as a second text costs its tokens again in the forward pass (MiniLM on
the CPU spends about a millisecond a token, so 5-7 ms for a short question). Instead the
names alone are embedded, once per process (a user's people recur from one question to the
next), and their direction is taken out of the query's vector:
``unit(v(query) - v(names))``. On the LoCoMo dev split that reading ranks like the embedded
one (docs/retrieval.md has the numbers).
"""

from __future__ import annotations

import numpy as np

from memlane.memory_graph.retrieval.query import words_of

__all__ = ["NameVectors", "proper_names"]


def proper_names(text: str) -> list[str]:
    """The words of ``text`` read as proper names: capitalised, not its first word, not an
    acronym ("What do Melanie's kids like?" -> ["Melanie's"]; "I" is an acronym here)."""
    words = words_of(text)
    return [w for w in words[1:] if w[:1].isupper() and not w.isupper()]


class NameVectors:
    """Name vectors kept per process, and the unnamed reading of a query's vector.

    Used from one event loop (a retriever's); what :meth:`texts` returns stays valid
    whatever other recalls keep or drop meanwhile.

    Args:
        size: names kept (the least recently used go first).
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._kept: dict[str, np.ndarray] = {}

    def texts(self, query: str) -> tuple[list[str], str, np.ndarray | None]:
        """What to embed for ``query`` (itself, and its names unless they are kept), the
        names' key ("" when the query names nobody: one vector) and their kept vector."""
        key = " ".join(proper_names(query))
        kept = self._kept.pop(key, None) if key else None
        if kept is not None:
            self._kept[key] = kept  # most recently used last
            return [query], key, kept
        return ([query, key] if key else [query]), key, None

    def vectors(self, embedded: np.ndarray, key: str, kept: np.ndarray | None) -> np.ndarray:
        """The query's vector and, when it names someone, its unnamed reading, as rows.

        Args:
            embedded: what the embedder returned for :meth:`texts` (unit rows).
            key, kept: the names' key and kept vector :meth:`texts` gave.
        """
        query = embedded[0]
        if not key:
            return embedded[:1]
        names = kept if kept is not None else self._keep(key, embedded[1])
        rest = query - names
        norm = float(np.linalg.norm(rest))
        if norm < 1e-6:  # nothing but the names
            return embedded[:1]
        return np.stack([query, (rest / norm).astype(query.dtype, copy=False)])

    def _keep(self, key: str, vector: np.ndarray) -> np.ndarray:
        while len(self._kept) >= self.size:
            self._kept.pop(next(iter(self._kept)), None)  # the least recently used
        self._kept[key] = vector = np.array(vector, copy=True)
        return vector
