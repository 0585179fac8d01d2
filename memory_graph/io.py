"""The export/import record format shared by every store.

One record is one JSON object (one JSONL line)::

    {"type": "episode" | "entity" | "fact", <the model's fields, JSON mode>,
     "vector": "<base64 of little-endian float32>"}   # only when the record has one

Stores export in a stable order (episodes by ``occurred_at, id``; entities by ``id``; facts
by ``id``), so exporting, importing into an empty store and exporting again gives the same
lines. Import is all-or-nothing per file: :func:`dict_to_writes` validates every record
before anything is applied, and returns one write set per user.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from pydantic import ValidationError

from memlane.memory_graph.errors import InputError, MemlaneError
from memlane.memory_graph.model import Entity, Episode, Fact, WriteSet
from memlane.memory_graph.stores._checks import vector_f32

__all__ = [
    "RECORD_TYPES",
    "Record",
    "b64_to_vector",
    "dict_to_record",
    "dict_to_writes",
    "record_to_dict",
    "vector_to_b64",
]

Record = Episode | Entity | Fact
RECORD_TYPES: dict[str, type[Episode] | type[Entity] | type[Fact]] = {
    "episode": Episode,
    "entity": Entity,
    "fact": Fact,
}
_TYPE_OF = {model: name for name, model in RECORD_TYPES.items()}


def vector_to_b64(vector: np.ndarray) -> str:
    """Base64 of the vector as little-endian float32."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def b64_to_vector(text: object, *, where: str = "vector") -> np.ndarray:
    """The float32 vector encoded by :func:`vector_to_b64`.

    Raises:
        InputError: not base64, not a whole number of float32 values, or not finite.
    """
    if not isinstance(text, str):
        raise InputError(f"vector must be a base64 string, got {type(text).__name__}", where=where)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise InputError("vector is not valid base64", where=where) from exc
    if len(raw) % 4:
        raise InputError(f"vector has {len(raw)} bytes, not a multiple of 4", where=where)
    return vector_f32(np.frombuffer(raw, dtype="<f4"), where=where)


def record_to_dict(record: Record, vector: np.ndarray | None = None) -> dict[str, Any]:
    """One export record: ``type``, the model's JSON fields, and ``vector`` when given."""
    out: dict[str, Any] = {"type": _TYPE_OF[type(record)]}
    out.update(record.model_dump(mode="json"))
    if vector is not None:
        out["vector"] = vector_to_b64(vector)
    return out


def _problem(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "record"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def dict_to_record(data: object, *, where: str) -> tuple[Record, np.ndarray | None]:
    """Validate one export record.

    Raises:
        InputError: the record is not an object, has an unknown ``type`` or invalid fields;
            the error's ``where`` is ``where``.
    """
    if not isinstance(data, Mapping):
        raise InputError(f"expected a JSON object, got {type(data).__name__}", where=where)
    fields = dict(data)
    kind = fields.pop("type", None)
    model = RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise InputError(
            f"unknown record type {kind!r}; expected one of {', '.join(RECORD_TYPES)}",
            where=where,
        )
    raw_vector = fields.pop("vector", None)
    try:
        record = model.model_validate(fields)
    except ValidationError as exc:
        raise InputError(f"invalid {kind}: {_problem(exc)}", where=where) from exc
    except MemlaneError as exc:  # parse_time raises InputError naming the field
        raise InputError(f"invalid {kind}: {exc}", where=where) from exc
    vector = None if raw_vector is None else b64_to_vector(raw_vector, where=f"{where} vector")
    return record, vector


def dict_to_writes(records: Iterable[object], *, where_fmt: str = "record {n}") -> list[WriteSet]:
    """Validate every record, then group them into one write set per user.

    Nothing is returned (so nothing can be applied) unless every record is valid.

    Args:
        records: export records, e.g. parsed JSONL lines.
        where_fmt: how errors name a record; ``{n}`` is its 1-based position
            (``"backup.jsonl:{n}"`` for a file read line by line).

    Raises:
        InputError: the first bad record (also a record id repeated for the same user).
    """
    by_user: dict[str, WriteSet] = {}
    seen: set[tuple[str, str, str]] = set()
    for n, data in enumerate(records, start=1):
        where = where_fmt.format(n=n)
        record, vector = dict_to_record(data, where=where)
        kind = _TYPE_OF[type(record)]
        key = (record.user_id, kind, record.id)
        if key in seen:
            raise InputError(
                f"{kind} {record.id!r} of user {record.user_id!r} appears twice", where=where
            )
        seen.add(key)
        writes = by_user.setdefault(record.user_id, WriteSet(user_id=record.user_id))
        if isinstance(record, Episode):
            writes.episodes.append(record)
            if vector is not None:
                writes.episode_vectors[record.id] = vector
        elif isinstance(record, Entity):
            writes.entities.append(record)
            if vector is not None:
                writes.entity_vectors[record.id] = vector
        else:
            writes.facts.append(record)
            if vector is not None:
                writes.fact_vectors[record.id] = vector
    return list(by_user.values())
