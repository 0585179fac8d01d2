"""The one record codec: Episode / Entity / Fact <-> flat rows of storable values.

Every backend stores a record as the fields below: times as epoch milliseconds, lists
(aliases, episode ids) as lists of strings, everything else as it is. A backend that keeps
lists as JSON text (SQLite) encodes and decodes only that; the rest is here, once.
Records are rebuilt with ``model_construct``: rows come only from records validated on the
way in (``_checks.check_write_set``), so a read does not validate a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memlane.memory_graph.model import Entity, Episode, Fact, normalise_name
from memlane.memory_graph.stores._types import Record
from memlane.memory_graph.timeutil import from_ms, to_ms

__all__ = [
    "FIELDS",
    "LIST_FIELDS",
    "MODELS",
    "from_row",
    "name_keys",
    "search_parts",
    "target_of",
    "to_row",
]

FIELDS: dict[str, tuple[str, ...]] = {
    "episode": (
        "id", "user_id", "session_id", "role", "speaker", "content", "occurred_at",
        "recorded_at",
    ),
    "entity": ("id", "user_id", "name", "kind", "aliases", "summary", "created_at"),
    "fact": (
        "id", "user_id", "subject_id", "predicate", "object_id", "value", "statement", "kind",
        "polarity", "confidence", "valid_at", "invalid_at", "recorded_at", "expired_at",
        "episode_ids", "start_precision",
    ),
}  # fmt: skip
"""The stored fields of each target, in a fixed order (SQLite's column order)."""

MODELS: dict[str, type[Record]] = {"episode": Episode, "entity": Entity, "fact": Fact}

LIST_FIELDS = frozenset({"aliases", "episode_ids"})
"""Fields holding a list of strings."""

_TIMES = {
    "episode": ("occurred_at", "recorded_at"),
    "entity": ("created_at",),
    "fact": ("recorded_at",),
}
_OPTIONAL_TIMES = {"episode": (), "entity": (), "fact": ("valid_at", "invalid_at", "expired_at")}
_TARGET_OF: dict[type, str] = {model: target for target, model in MODELS.items()}


def target_of(record: Record) -> str:
    """``episode``, ``entity`` or ``fact``."""
    return _TARGET_OF[type(record)]


def to_row(record: Record) -> dict[str, Any]:
    """A record's stored fields (:data:`FIELDS`) as storable values."""
    target = target_of(record)
    row = {name: getattr(record, name) for name in FIELDS[target]}
    for name in _TIMES[target]:
        row[name] = to_ms(row[name])
    for name in _OPTIONAL_TIMES[target]:
        row[name] = None if row[name] is None else to_ms(row[name])
    for name in LIST_FIELDS.intersection(row):
        row[name] = list(row[name])
    if target == "fact":
        row["confidence"] = float(row["confidence"])
    return row


def from_row(target: str, row: Mapping[str, Any], user_id: str | None = None) -> Record:
    """The record a stored row holds.

    Args:
        target: ``episode``, ``entity`` or ``fact``.
        row: the stored fields (``user_id`` may be absent when given as ``user_id``).
        user_id: the owner, when the row does not carry it.
    """
    values: dict[str, Any] = {name: row.get(name) for name in FIELDS[target]}
    if user_id is not None:
        values["user_id"] = user_id
    for name in _TIMES[target]:
        values[name] = from_ms(int(values[name]))
    for name in _OPTIONAL_TIMES[target]:
        value = values[name]
        values[name] = None if value is None else from_ms(int(value))
    for name in LIST_FIELDS.intersection(values):
        values[name] = tuple(values[name] or ())
    if target == "fact":
        values["confidence"] = float(values["confidence"])
    elif target == "entity":
        values["summary"] = values["summary"] or ""
    return MODELS[target].model_construct(**values)


def search_parts(record: Record) -> tuple[str | None, ...]:
    """The fields full-text search indexes for a record (``_ranking.index_text``)."""
    if isinstance(record, Fact):
        return (record.statement, record.value)
    if isinstance(record, Entity):
        return (record.name, *record.aliases)
    return (record.content,)


def name_keys(entity: Entity) -> list[str]:
    """The normalised keys an entity is found by: its name and each alias."""
    keys = (normalise_name(n) for n in (entity.name, *entity.aliases))
    return list(dict.fromkeys(k for k in keys if k))
