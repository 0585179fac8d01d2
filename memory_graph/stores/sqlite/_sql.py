"""SQL text and row conversions of the SQLite store (no connection handling here).

Table names below come from the fixed ``TARGETS`` map, never from callers; every value
travels as a parameter. Lists (aliases, episode ids) are JSON text; times are epoch ms.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from memlane.memory_graph.model import Entity, Episode, Fact, normalise_name
from memlane.memory_graph.stores._ranking import index_text
from memlane.memory_graph.timeutil import from_ms, to_ms

__all__ = [
    "ENTITY_COLS",
    "EPISODE_COLS",
    "FACT_COLS",
    "FACT_ORDER",
    "FTS_WEIGHTS",
    "TARGETS",
    "entity_params",
    "entity_row",
    "episode_params",
    "episode_row",
    "fact_params",
    "fact_row",
    "fts_match",
    "matches_sql",
    "name_keys",
    "owner_token",
    "term_params",
]

# target -> (record table, FTS table, vector table)
TARGETS: dict[str, tuple[str, str, str]] = {
    "fact": ("facts", "fact_fts", "fact_vectors"),
    "episode": ("episodes", "episode_fts", "episode_vectors"),
    "entity": ("entities", "entity_fts", "entity_vectors"),
}

EPISODE_COLS = "id, user_id, session_id, role, speaker, content, occurred_at, recorded_at"
ENTITY_COLS = "id, user_id, name, kind, aliases, summary, created_at"
FACT_COLS = (
    "id, user_id, subject_id, predicate, object_id, value, statement, kind, polarity, "
    "confidence, valid_at, invalid_at, recorded_at, expired_at, episode_ids"
)
FACT_ORDER = "COALESCE(valid_at, recorded_at), recorded_at, id"


def _ms(value: Any) -> int | None:
    return None if value is None else to_ms(value)


def _time(value: int | None) -> Any:
    return None if value is None else from_ms(value)


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
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (user_id, id) DO UPDATE SET
        subject_id = excluded.subject_id, predicate = excluded.predicate,
        object_id = excluded.object_id, value = excluded.value,
        statement = excluded.statement, kind = excluded.kind, polarity = excluded.polarity,
        confidence = excluded.confidence, valid_at = excluded.valid_at,
        invalid_at = excluded.invalid_at, recorded_at = excluded.recorded_at,
        expired_at = excluded.expired_at, episode_ids = excluded.episode_ids,
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


def episode_params(ep: Episode) -> tuple[Any, ...]:
    return (
        ep.id,
        ep.user_id,
        ep.session_id,
        ep.role,
        ep.speaker,
        ep.content,
        to_ms(ep.occurred_at),
        to_ms(ep.recorded_at),
        *index_text(ep.content),
    )


def entity_params(en: Entity) -> tuple[Any, ...]:
    return (
        en.id,
        en.user_id,
        en.name,
        en.kind,
        json.dumps(list(en.aliases), ensure_ascii=False),
        en.summary,
        to_ms(en.created_at),
        *index_text(en.name, *en.aliases),
    )


def fact_params(f: Fact) -> tuple[Any, ...]:
    return (
        f.id,
        f.user_id,
        f.subject_id,
        f.predicate,
        f.object_id,
        f.value,
        f.statement,
        f.kind,
        f.polarity,
        f.confidence,
        _ms(f.valid_at),
        _ms(f.invalid_at),
        to_ms(f.recorded_at),
        _ms(f.expired_at),
        json.dumps(list(f.episode_ids)),
        *index_text(f.statement, f.value),
    )


def name_keys(en: Entity) -> list[str]:
    """The normalised keys an entity is found by: its name and each alias."""
    keys = (normalise_name(n) for n in (en.name, *en.aliases))
    return list(dict.fromkeys(k for k in keys if k))


# Rows come only from records that were validated on the way in, so they are rebuilt with
# ``model_construct`` (no second validation on every read).


def episode_row(row: Sequence[Any]) -> Episode:
    return Episode.model_construct(
        id=row[0],
        user_id=row[1],
        session_id=row[2],
        role=row[3],
        speaker=row[4],
        content=row[5],
        occurred_at=from_ms(row[6]),
        recorded_at=from_ms(row[7]),
    )


def entity_row(row: Sequence[Any]) -> Entity:
    return Entity.model_construct(
        id=row[0],
        user_id=row[1],
        name=row[2],
        kind=row[3],
        aliases=tuple(json.loads(row[4])),
        summary=row[5],
        created_at=from_ms(row[6]),
    )


def fact_row(row: Sequence[Any]) -> Fact:
    return Fact.model_construct(
        id=row[0],
        user_id=row[1],
        subject_id=row[2],
        predicate=row[3],
        object_id=row[4],
        value=row[5],
        statement=row[6],
        kind=row[7],
        polarity=row[8],
        confidence=row[9],
        valid_at=_time(row[10]),
        invalid_at=_time(row[11]),
        recorded_at=from_ms(row[12]),
        expired_at=_time(row[13]),
        episode_ids=tuple(json.loads(row[14])),
    )


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
