"""Turning user text into safe full-text search terms, shared by every backend.

User text never reaches a full-text query language as syntax: it is split into words here,
and each backend quotes every word as a literal term and ORs them (FTS5 ``"word"``, Lucene
escaping on the Cypher servers). Quotes, dashes, ``AND``/``OR``/``NOT``, ``*``, ``:`` and
brackets are therefore just text.
"""

from __future__ import annotations

import re

__all__ = ["MAX_TERMS", "STOPWORDS", "query_terms"]

MAX_TERMS = 32
"""At most this many distinct words per query: bounds the cost of a pasted essay."""

# Very common English words match most rows and add almost nothing to the ranking; dropping
# them keeps OR queries fast on large graphs. A query made only of them keeps them.
STOPWORDS = frozenset(
    """
    a about above after again all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into
    is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your
    yours yourself yourselves
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def query_terms(text: str, *, max_terms: int = MAX_TERMS) -> list[str]:
    """The distinct lower-cased words of ``text`` (letters and digits only), in order.

    Stopwords are dropped unless nothing else is left. Never raises on any input.

    Args:
        text: arbitrary user text.
        max_terms: keep at most this many words.

    Returns:
        Words safe to quote as literal terms; empty when ``text`` has no words.
    """
    words = list(dict.fromkeys(w.casefold() for w in _WORD.findall(text)))
    content = [w for w in words if w not in STOPWORDS]
    return (content or words)[:max_terms]
