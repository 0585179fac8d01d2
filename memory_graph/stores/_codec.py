"""The one record codec: Episode / Entity / Fact <-> flat rows of storable values.

Every backend stores a record as the fields below: times as epoch milliseconds, lists
(aliases, episode ids) as lists of strings, everything else as it is. A backend that keeps
lists as JSON text (SQLite) encodes and decodes only that; the rest is here, once.
Records are rebuilt without validation (``from_values``, a leaner ``model_construct``): rows
come only from records validated on the way in (``_checks.check_write_set``), so a read
does not validate a second time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from memlane.memory_graph.model import Entity, Episode, Fact, normalise_name
from memlane.memory_graph.stores._types import Record
from memlane.memory_graph.timeutil import from_ms, to_ms

__all__ = [
    "FIELDS",
    "LIST_FIELDS",
    "MODELS",
    "from_row",
    "from_values",
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
    values = [row.get(name) for name in FIELDS[target]]
    if user_id is not None:
        values[1] = user_id  # every target's second field
    return from_values(target, values)


_EPOCH = from_ms(0)
_ONE_MS = timedelta(milliseconds=1)


def _decoders(target: str) -> tuple[tuple[int, str], ...]:
    """(position, how) of the fields of ``target`` stored as something else."""
    out: list[tuple[int, str]] = []
    for i, name in enumerate(FIELDS[target]):
        if name in _TIMES[target]:
            out.append((i, "time"))
        elif name in _OPTIONAL_TIMES[target]:
            out.append((i, "time?"))
        elif name in LIST_FIELDS:
            out.append((i, "list"))
        elif name == "confidence":
            out.append((i, "float"))
        elif name == "summary":
            out.append((i, "text"))
    return tuple(out)


_DECODERS = {target: _decoders(target) for target in FIELDS}


def _check_models() -> None:
    # The fast construction below sets every field from a row; it is only right while the
    # stored fields are exactly the model's and the model has no hooks or private state.
    for target, model in MODELS.items():
        fields = model.__pydantic_fields__
        if set(fields) != set(FIELDS[target]) or any(f.alias for f in fields.values()):
            raise AssertionError(f"{model.__name__}'s fields and the stored {target} fields differ")
        if model.__pydantic_post_init__ or model.__private_attributes__:
            raise AssertionError(f"{model.__name__} needs model_construct")


_check_models()
_new = object.__new__
_set = object.__setattr__


def from_values(
    target: str, values: list[Any], load_list: Callable[[Any], Any] | None = None
) -> Record:
    """The record a stored row holds, given as its :data:`FIELDS` values in order (changed
    in place). ``load_list`` first decodes list fields a backend keeps as text (JSON).

    This is ``model_construct`` without its per-field lookups: rows only ever come from
    validated records, and a recall decodes a few hundred of them.
    """
    for i, how in _DECODERS[target]:
        value = values[i]
        if how == "time":
            values[i] = _EPOCH + _ONE_MS * int(value)
        elif how == "time?":
            values[i] = None if value is None else _EPOCH + _ONE_MS * int(value)
        elif how == "list":
            if load_list is not None:
                value = load_list(value)
            values[i] = tuple(value or ())
        elif how == "float":
            values[i] = float(value)
        else:
            values[i] = value or ""
    model = MODELS[target]
    record = _new(model)
    names = FIELDS[target]
    _set(record, "__dict__", dict(zip(names, values, strict=True)))
    _set(record, "__pydantic_fields_set__", set(names))
    _set(record, "__pydantic_extra__", None)
    _set(record, "__pydantic_private__", None)
    return record


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
