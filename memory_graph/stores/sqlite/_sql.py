"""SQL text and row conversions of the SQLite store (no connection handling here).

Table names below come from the fixed ``TARGETS`` map, never from callers; every value
travels as a parameter. Lists (aliases, episode ids) are JSON text; times are epoch ms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from memlane.memory_graph.model import Entity, Episode, Fact
from memlane.memory_graph.stores._codec import (
    FIELDS,
    LIST_FIELDS,
    from_values,
    name_keys,
    search_parts,
    to_row,
)
from memlane.memory_graph.stores._ranking import index_text
from memlane.memory_graph.stores._types import Record

__all__ = [
    "COLS",
    "ENTITY_COLS",
    "EPISODE_COLS",
    "FACT_COLS",
    "FACT_ORDER",
    "FACT_ORDER_NEWEST",
    "FTS_WEIGHTS",
    "TARGETS",
    "entity_params",
    "episode_params",
    "fact_params",
    "fts_match",
    "matches_sql",
    "name_keys",
    "owner_token",
    "record_row",
    "term_params",
]

# target -> (record table, FTS table, vector table)
TARGETS: dict[str, tuple[str, str, str]] = {
    "fact": ("facts", "fact_fts", "fact_vectors"),
    "episode": ("episodes", "episode_fts", "episode_vectors"),
    "entity": ("entities", "entity_fts", "entity_vectors"),
}

EPISODE_COLS = ", ".join(FIELDS["episode"])
ENTITY_COLS = ", ".join(FIELDS["entity"])
FACT_COLS = ", ".join(FIELDS["fact"])
COLS = {"episode": EPISODE_COLS, "entity": ENTITY_COLS, "fact": FACT_COLS}
FACT_ORDER = "COALESCE(valid_at, recorded_at), recorded_at, id"
FACT_ORDER_NEWEST = "COALESCE(valid_at, recorded_at) DESC, recorded_at DESC, id DESC"


# Written beside every record: its searchable words and their count (``_ranking``), which
# search ranks from and the per-user statistics in ``text_stats`` are kept from.
_SEARCH_COLS = "search_text, search_len"

INSERT_EPISODE = f"""
    INSERT INTO episodes ({EPISODE_COLS}, {_SEARCH_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (user_id, id) DO NOTHING
"""

UPSERT_ENTITY = f"""
    INSERT INTO entities ({ENTITY_COLS}, {_SEARCH_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (user_id, id) DO UPDATE SET
        name = excluded.name, kind = excluded.kind, aliases = excluded.aliases,
        summary = excluded.summary, created_at = excluded.created_at,
        search_text = excluded.search_text, search_len = excluded.search_len
"""

UPSERT_FACT = f"""
    INSERT INTO facts ({FACT_COLS}, {_SEARCH_COLS})
    VALUES ({", ".join("?" * (len(FIELDS["fact"]) + 2))})
    ON CONFLICT (user_id, id) DO UPDATE SET
        subject_id = excluded.subject_id, predicate = excluded.predicate,
        object_id = excluded.object_id, value = excluded.value,
        statement = excluded.statement, kind = excluded.kind, polarity = excluded.polarity,
        confidence = excluded.confidence, valid_at = excluded.valid_at,
        invalid_at = excluded.invalid_at, recorded_at = excluded.recorded_at,
        expired_at = excluded.expired_at, episode_ids = excluded.episode_ids,
        start_precision = excluded.start_precision,
        search_text = excluded.search_text, search_len = excluded.search_len
"""

DELETE_ENTITY_NAMES = """
    DELETE FROM entity_names
    WHERE entity_pk IN (SELECT pk FROM entities WHERE user_id = ? AND id = ?)
"""

INSERT_ENTITY_NAME = """
    INSERT OR IGNORE INTO entity_names (user_id, norm, entity_pk)
    SELECT user_id, ?, pk FROM entities WHERE user_id = ? AND id = ?
"""


def upsert_vector_sql(target: str) -> str:
    """Set the vector of an existing record (no row is written when the record is absent)."""
    records, _, vectors = TARGETS[target]
    return f"""
        INSERT INTO {vectors} (pk, user_id, dim, vec)
        SELECT pk, user_id, ?, ? FROM {records} WHERE user_id = ? AND id = ?
        ON CONFLICT (pk) DO UPDATE SET dim = excluded.dim, vec = excluded.vec
    """


def _params(record: Record) -> tuple[Any, ...]:
    row = to_row(record)
    for name in LIST_FIELDS.intersection(row):
        row[name] = json.dumps(row[name], ensure_ascii=name != "aliases")
    return (*row.values(), *index_text(*search_parts(record)))


def episode_params(ep: Episode) -> tuple[Any, ...]:
    """The parameters of :data:`INSERT_EPISODE`."""
    return _params(ep)


def entity_params(en: Entity) -> tuple[Any, ...]:
    """The parameters of :data:`UPSERT_ENTITY`."""
    return _params(en)


def fact_params(f: Fact) -> tuple[Any, ...]:
    """The parameters of :data:`UPSERT_FACT`."""
    return _params(f)


def record_row(target: str, row: Sequence[Any]) -> Record:
    """The record a row of ``{target}_COLS`` holds (``_codec.from_values``)."""
    return from_values(target, list(row[: len(FIELDS[target])]), json.loads)


def owner_token(user_id: str) -> str:
    """The token the ``owner`` column of every FTS table holds for ``user_id``."""
    return "u" + user_id.encode("utf-8").hex().upper()


def fts_match(user_id: str, terms: Sequence[str]) -> str:
    """An FTS5 query: the user's owner token AND any of ``terms``, each quoted as a literal."""
    words = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
    return f'owner : "{owner_token(user_id)}" AND ({words})'


FTS_WEIGHTS = {
    "fact_fts": "1.0, 1.0, 0.0",
    "episode_fts": "1.0, 0.0",
    "entity_fts": "1.0, 1.0, 0.0",
}
"""bm25 column weights per FTS table; the trailing ``owner`` column never scores."""


def matches_sql(records: str, fts: str, n_terms: int) -> str:
    """The newest full-text matches of one user, counted for BM25, as one row.

    The row: how many records matched; their ids (a JSON array); then, per record, its
    length in words and how often each of ``n_terms`` query terms occurs in its stored
    words (``search_text``), as integers separated by spaces. One row of three values
    instead of thousands of rows keeps Python from allocating (and the garbage collector
    from sweeping) thousands of objects on every search.

    Parameters: :func:`term_params`, the ``MATCH`` expression (:func:`fts_match`), the user
    id, the most records to count. FTS5 serves rowid order without sorting, so the walk
    stops at the limit.
    """
    # Doubling the single spaces between words keeps the matches of ' term ' apart, so a
    # repeated word ("very very") counts twice; replace() matches never overlap.
    counts = "".join(
        " || ' ' || ((length(p) - length(replace(p, ?, ''))) / ?)" for _ in range(n_terms)
    )
    return f"""
        SELECT count(*), json_group_array(id), group_concat(n{counts}, ' ') FROM (
            SELECT r.id AS id, r.search_len AS n,
                ' ' || replace(r.search_text, ' ', '  ') || ' ' AS p
            FROM {fts} JOIN {records} r ON r.pk = {fts}.rowid
            WHERE {fts} MATCH ? AND r.user_id = ? ORDER BY {fts}.rowid DESC LIMIT ?
        )
    """


def term_params(terms: Sequence[str]) -> list[Any]:
    """The parameters of :func:`matches_sql` that name the terms counted."""
    return [x for t in terms for x in (f" {t} ", len(t) + 2)]
