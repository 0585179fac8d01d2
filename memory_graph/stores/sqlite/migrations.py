"""Named, ordered, idempotent schema migrations for the SQLite store.

Modelled on simonw/llm ``migrations.py``: each migration has a stable name, runs at most
once per database file, and is recorded in ``schema_migrations``. New migrations are only
ever appended; a released migration is never edited (write a new one instead).

Every migration runs in its own ``BEGIN IMMEDIATE`` transaction together with the row that
records it, so a crash mid-migration leaves the database as it was before that migration,
and two processes opening the same file at once apply each migration exactly once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from memlane.memory_graph.stores._ranking import index_text
from memlane.memory_graph.stores.sqlite import _jobs, _threads

__all__ = ["MIGRATIONS", "Migration", "applied_migrations", "migrate"]

log = logging.getLogger(__name__)

# unicode61 folds case and (with remove_diacritics 2) accents, so "Café" finds "cafe";
# porter stems English words, so "lived" finds "lives".
_TOKENIZE = "porter unicode61 remove_diacritics 2"
_START = "COALESCE(valid_at, recorded_at)"


Step = str | Callable[[sqlite3.Connection], None]
"""A migration step: an SQL statement, or a function for data SQL cannot compute."""


@dataclass(frozen=True)
class Migration:
    """One schema step: a stable name and the statements (or functions) it runs, in order."""

    name: str
    statements: tuple[Step, ...]


_CORE = Migration(
    "0001_core_tables",
    (
        # Every record table has an INTEGER PRIMARY KEY ``pk`` (a stable rowid for FTS and
        # vector rows) and a UNIQUE (user_id, id) key: records are keyed by user and id.
        """
        CREATE TABLE episodes (
            pk INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            id TEXT NOT NULL,
            session_id TEXT,
            role TEXT NOT NULL,
            speaker TEXT,
            content TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            UNIQUE (user_id, id)
        )
        """,
        "CREATE INDEX episodes_by_time ON episodes (user_id, occurred_at, id)",
        "CREATE INDEX episodes_by_session ON episodes (user_id, session_id, occurred_at)",
        """
        CREATE TABLE entities (
            pk INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            id TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            aliases TEXT NOT NULL DEFAULT '[]',
            summary TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            UNIQUE (user_id, id)
        )
        """,
        # Normalised name and aliases of each entity, for exact-name lookup.
        """
        CREATE TABLE entity_names (
            user_id TEXT NOT NULL,
            norm TEXT NOT NULL,
            entity_pk INTEGER NOT NULL REFERENCES entities (pk) ON DELETE CASCADE,
            PRIMARY KEY (user_id, norm, entity_pk)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX entity_names_by_entity ON entity_names (entity_pk)",
        """
        CREATE TABLE facts (
            pk INTEGER PRIMARY KEY,
            user_id TEXT NOT NULL,
            id TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            predicate TEXT NOT NULL,
            object_id TEXT,
            value TEXT,
            statement TEXT NOT NULL,
            kind TEXT NOT NULL,
            polarity TEXT NOT NULL,
            confidence REAL NOT NULL,
            valid_at INTEGER,
            invalid_at INTEGER,
            recorded_at INTEGER NOT NULL,
            expired_at INTEGER,
            episode_ids TEXT NOT NULL DEFAULT '[]',
            UNIQUE (user_id, id)
        )
        """,
        "CREATE INDEX facts_by_subject ON facts (user_id, subject_id, predicate)",
        "CREATE INDEX facts_by_object ON facts (user_id, object_id)",
        "CREATE INDEX facts_by_valid ON facts (user_id, valid_at)",
        # The order find_facts returns: COALESCE(valid_at, recorded_at), recorded_at, id.
        """
        CREATE INDEX facts_by_start
            ON facts (user_id, COALESCE(valid_at, recorded_at), recorded_at, id)
        """,
    ),
)


def _fts_table(table: str, content: str, columns: tuple[str, ...]) -> str:
    """``CREATE`` of an external-content FTS5 table over ``columns`` of ``content``."""
    return f"""
        CREATE VIRTUAL TABLE {table} USING fts5 (
            {", ".join(columns)}, content='{content}', content_rowid='pk', tokenize='{_TOKENIZE}'
        )
        """


def _fts_triggers(
    table: str, content: str, columns: tuple[str, ...], watched: tuple[str, ...]
) -> tuple[str, ...]:
    """The triggers that keep ``table`` in sync with ``content``; updates of ``watched``
    columns re-index a row.

    Triggers run inside the writing statement's transaction, so the index can never
    disagree with its table after a commit or a rollback.
    """
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    return (
        f"""
        CREATE TRIGGER {table}_ai AFTER INSERT ON {content} BEGIN
            INSERT INTO {table} (rowid, {cols}) VALUES (new.pk, {new});
        END
        """,
        f"""
        CREATE TRIGGER {table}_ad AFTER DELETE ON {content} BEGIN
            INSERT INTO {table} ({table}, rowid, {cols}) VALUES ('delete', old.pk, {old});
        END
        """,
        f"""
        CREATE TRIGGER {table}_au AFTER UPDATE OF {", ".join(watched)} ON {content} BEGIN
            INSERT INTO {table} ({table}, rowid, {cols}) VALUES ('delete', old.pk, {old});
            INSERT INTO {table} (rowid, {cols}) VALUES (new.pk, {new});
        END
        """,
    )


def _fts(table: str, content: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """An external-content FTS5 table over ``content`` kept in sync by triggers."""
    return (
        _fts_table(table, content, columns),
        *_fts_triggers(table, content, columns, columns),
    )


_FTS = Migration(
    "0002_full_text",
    (
        *_fts("fact_fts", "facts", ("statement", "value")),
        *_fts("episode_fts", "episodes", ("content",)),
        *_fts("entity_fts", "entities", ("name", "aliases")),
    ),
)


def _vector_table(target: str, records: str) -> tuple[str, ...]:
    # One row per record that has a vector; deleting the record deletes its vector.
    return (
        f"""
        CREATE TABLE {target}_vectors (
            pk INTEGER PRIMARY KEY REFERENCES {records} (pk) ON DELETE CASCADE,
            user_id TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vec BLOB NOT NULL
        )
        """,
        f"CREATE INDEX {target}_vectors_by_user ON {target}_vectors (user_id, dim)",
    )


_VECTORS = Migration(
    "0003_vectors",
    (
        *_vector_table("fact", "facts"),
        *_vector_table("episode", "episodes"),
        *_vector_table("entity", "entities"),
    ),
)


def _owned_fts(table: str, content: str, columns: tuple[str, ...]) -> tuple[str, ...]:
    """Rebuild ``table`` with an ``owner`` column: one token per user (``u`` + hex of the id).

    Searches AND the owner token with the query words, so FTS5 walks only that user's
    postings instead of every user's, and a big neighbour never slows a small user down.
    ``owner`` is a virtual generated column of the content table (no storage) so that
    FTS5's ``rebuild`` and ``integrity-check`` can read it like any other column.
    """
    owned = (*columns, "owner")
    return (
        f"DROP TRIGGER {table}_ai",
        f"DROP TRIGGER {table}_ad",
        f"DROP TRIGGER {table}_au",
        f"DROP TABLE {table}",
        f"ALTER TABLE {content} ADD COLUMN owner TEXT "
        "GENERATED ALWAYS AS ('u' || hex(user_id)) VIRTUAL",
        _fts_table(table, content, owned),
        f"INSERT INTO {table} ({table}) VALUES ('rebuild')",
        *_fts_triggers(table, content, owned, columns),
    )


_OWNED_FTS = Migration(
    "0004_full_text_by_user",
    (
        *_owned_fts("fact_fts", "facts", ("statement", "value")),
        *_owned_fts("episode_fts", "episodes", ("content",)),
        *_owned_fts("entity_fts", "entities", ("name", "aliases")),
    ),
)

_NEIGHBOUR_INDEXES = Migration(
    "0005_fact_endpoint_indexes",
    (
        # neighbourhood() reads the newest facts at each endpoint straight off these, so a
        # hub entity with 100k facts costs a short index walk, not a sort of all its facts.
        f"""
        CREATE INDEX facts_by_subject_start
            ON facts (user_id, subject_id, {_START}, recorded_at, id)
        """,
        f"""
        CREATE INDEX facts_by_object_start
            ON facts (user_id, object_id, {_START}, recorded_at, id)
        """,
        # Covered by facts_by_object_start; and as_of reads walk facts_by_start instead.
        "DROP INDEX facts_by_object",
        "DROP INDEX facts_by_valid",
    ),
)

_SESSION_INDEX = Migration(
    "0006_session_episodes_by_time_and_id",
    (
        # episodes_in_session orders by (occurred_at, id); without id in the index the planner
        # walked episodes_by_time over every episode of the user (13.6 ms -> 0.1 ms at 100k).
        "DROP INDEX episodes_by_session",
        "CREATE INDEX episodes_by_session ON episodes (user_id, session_id, occurred_at, id)",
    ),
)

# target -> (record table, the fields its searchable text is made of)
_SEARCHABLE = {
    "fact": ("facts", "statement, value"),
    "episode": ("episodes", "content"),
    "entity": ("entities", "name, aliases"),
}


def _fill_search_text(conn: sqlite3.Connection) -> None:
    """Compute the searchable words of every stored record (Python: Porter stemming)."""
    for records, fields in _SEARCHABLE.values():
        rows = conn.execute(f"SELECT pk, {fields} FROM {records}").fetchall()
        if records == "entities":  # name and the JSON list of aliases
            texts = [(pk, index_text(name, *json.loads(aliases))) for pk, name, aliases in rows]
        else:
            texts = [(row[0], index_text(*row[1:])) for row in rows]
        conn.executemany(
            f"UPDATE {records} SET search_text = ?, search_len = ? WHERE pk = ?",
            [(text, n, pk) for pk, (text, n) in texts],
        )


def _text_stats_triggers(target: str, records: str) -> tuple[str, ...]:
    # Maintained in the writing statement's transaction, like the full-text index.
    return (
        f"""
        CREATE TRIGGER {records}_stats_ai AFTER INSERT ON {records} BEGIN
            INSERT INTO text_stats (user_id, target, docs, words)
            VALUES (new.user_id, '{target}', 1, new.search_len)
            ON CONFLICT (user_id, target) DO UPDATE
            SET docs = docs + 1, words = words + excluded.words;
        END
        """,
        f"""
        CREATE TRIGGER {records}_stats_ad AFTER DELETE ON {records} BEGIN
            UPDATE text_stats SET docs = docs - 1, words = words - old.search_len
            WHERE user_id = old.user_id AND target = '{target}';
        END
        """,
        f"""
        CREATE TRIGGER {records}_stats_au AFTER UPDATE OF search_len ON {records} BEGIN
            UPDATE text_stats SET words = words - old.search_len + new.search_len
            WHERE user_id = new.user_id AND target = '{target}';
        END
        """,
    )


_TEXT_STATS = Migration(
    "0007_search_text_and_per_user_stats",
    (
        # Full-text search ranks with per-user BM25 (memlane.memory_graph.stores._ranking): FTS5's
        # bm25() counts documents and lengths over every user in the file, so one user's
        # ranking moved with another user's data. Each record keeps its searchable words;
        # text_stats keeps each user's document count and total length per target.
        *(
            f"ALTER TABLE {records} ADD COLUMN {column}"
            for records, _ in _SEARCHABLE.values()
            for column in (
                "search_text TEXT NOT NULL DEFAULT ''",
                "search_len INTEGER NOT NULL DEFAULT 0",
            )
        ),
        _fill_search_text,
        """
        CREATE TABLE text_stats (
            user_id TEXT NOT NULL,
            target TEXT NOT NULL,
            docs INTEGER NOT NULL,
            words INTEGER NOT NULL,
            PRIMARY KEY (user_id, target)
        ) WITHOUT ROWID
        """,
        *(
            f"INSERT INTO text_stats (user_id, target, docs, words) "
            f"SELECT user_id, '{target}', count(*), sum(search_len) FROM {records} "
            "GROUP BY user_id"
            for target, (records, _) in _SEARCHABLE.items()
        ),
        *(
            sql
            for target, (records, _) in _SEARCHABLE.items()
            for sql in _text_stats_triggers(target, records)
        ),
    ),
)

_START_PRECISION = Migration(
    "0008_fact_start_precision",
    (
        # What was said about a fact's start (time, day, unknown: observed is not started).
        # Rows from before it hold NULL: the reconciler reads those as observations when
        # their start is the time of their first message.
        "ALTER TABLE facts ADD COLUMN start_precision TEXT",
    ),
)
_EXTRACTION_JOBS = Migration("0010_extraction_jobs", _jobs.CREATE)

_WRITE_VERSIONS = Migration(
    "0009_user_write_versions",
    (
        # One opaque token per user, changed by every write of that user: a write set derived
        # from what a writer read lands only while the token is unchanged (``if_version``).
        """
        CREATE TABLE write_versions (
            user_id TEXT PRIMARY KEY,
            version TEXT NOT NULL
        ) WITHOUT ROWID
        """,
    ),
)

_PREDICATE_INDEX = Migration(
    "0011_facts_by_subject_predicate_start",
    (
        # find_facts by subject and predicate (the profile header, a predicate's history)
        # returns them in start order; without the predicate in that index the planner
        # walked facts_by_subject_start over every fact of the subject and filtered: for the
        # user themself, 30k index rows per read at 100k facts (six profile reads 408 ms ->
        # 0.4 ms).
        f"""
        CREATE INDEX facts_by_subject_predicate_start
            ON facts (user_id, subject_id, predicate, {_START}, recorded_at, id)
        """,
        # Its prefix serves every read facts_by_subject served.
        "DROP INDEX facts_by_subject",
    ),
)

_THREAD_STATE = Migration(
    "0012_thread_state",
    (
        # Chat threads' LangGraph checkpoints, kept through the store's own operations
        # (``stores.threads.ThreadStore``) like the graph servers'; the threads LangGraph's
        # SQLite saver kept in this file before are moved in and its tables dropped.
        *_threads.CREATE,
        _threads.adopt_langgraph_tables,
    ),
)

MIGRATIONS: tuple[Migration, ...] = (
    _CORE,
    _FTS,
    _VECTORS,
    _OWNED_FTS,
    _NEIGHBOUR_INDEXES,
    _SESSION_INDEX,
    _TEXT_STATS,
    _START_PRECISION,
    _WRITE_VERSIONS,
    _EXTRACTION_JOBS,
    _PREDICATE_INDEX,
    _THREAD_STATE,
)


def _ensure_ledger(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
    )


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations recorded in this database, in the order they were applied."""
    _ensure_ledger(conn)
    rows = conn.execute("SELECT name FROM schema_migrations ORDER BY rowid").fetchall()
    return [row[0] for row in rows]


def migrate(conn: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Apply every migration not yet recorded, in order. Idempotent.

    ``conn`` must be in autocommit mode (``isolation_level=None``): each migration opens its
    own transaction.

    Returns:
        The names applied by this call (empty when the schema was already current).
    """
    _ensure_ledger(conn)
    applied: list[str] = []
    done = set(applied_migrations(conn))
    for migration in migrations:
        if migration.name in done:
            continue  # the common case: a no-op open takes no write lock
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Checked again under the write lock: another process may have just applied it.
            if conn.execute(
                "SELECT 1 FROM schema_migrations WHERE name = ?", (migration.name,)
            ).fetchone():
                conn.execute("COMMIT")
                continue
            for step in migration.statements:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
            conn.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (migration.name, int(time.time() * 1000)),
            )
            count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
            # PRAGMA takes no parameters; ``count`` is an int we computed.
            conn.execute(f"PRAGMA user_version = {int(count)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(migration.name)
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    return applied
