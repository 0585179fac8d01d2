"""Checks every backend runs on a write set before touching the database.

Records are pydantic models and normally valid by construction, but ``model_construct`` or
mutation can bypass validation; a store is the last line before the data becomes permanent,
so it re-validates (about 8 microseconds a record) and checks the vectors it will keep.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, ValidationError

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.model import Entity, Episode, Fact, WriteSet

__all__ = ["MAX_VECTOR_DIM", "check_write_set", "vector_f32"]

MAX_VECTOR_DIM = 8192


def vector_f32(value: object, *, where: str) -> np.ndarray:
    """A 1-D, finite, little-endian float32 copy of ``value``.

    Raises:
        InputError: not a non-empty 1-D array of finite numbers (``where`` names it).
    """
    try:
        vec = np.asarray(value, dtype="<f4")
    except (TypeError, ValueError) as exc:
        raise InputError(f"vector is not numeric: {exc}", where=where) from exc
    if vec.ndim != 1 or not 0 < vec.shape[0] <= MAX_VECTOR_DIM:
        raise InputError(
            f"vector must be 1-D with 1..{MAX_VECTOR_DIM} values, got shape {vec.shape}",
            where=where,
        )
    if not np.isfinite(vec).all():
        raise InputError("vector holds NaN or infinite values", where=where)
    return vec


def _revalidate(record: BaseModel, model: type[BaseModel], where: str) -> None:
    if type(record) is not model:
        raise InputError(f"expected a {model.__name__}, got {type(record).__name__}", where=where)
    try:
        model.model_validate(record.__dict__)
    except ValidationError as exc:
        problem = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise InputError(f"invalid {model.__name__.lower()}: {problem}", where=where) from exc


def check_write_set(writes: WriteSet) -> dict[str, dict[str, np.ndarray]]:
    """Validate every record and vector of ``writes``; nothing is written here.

    Returns:
        The vectors as float32 arrays, keyed by target (``fact``/``episode``/``entity``)
        and record id.

    Raises:
        InputError: the first problem found, naming the record (``fact f_12``).
    """
    groups: tuple[tuple[str, type[BaseModel], list], ...] = (
        ("episode", Episode, list(writes.episodes)),
        ("entity", Entity, list(writes.entities)),
        ("fact", Fact, list(writes.facts)),
    )
    for target, model, records in groups:
        for record in records:
            where = f"{target} {getattr(record, 'id', '?')}"
            _revalidate(record, model, where)
            if record.user_id != writes.user_id:  # type: ignore[attr-defined]
                raise InputError(
                    f"belongs to user {record.user_id!r}, not {writes.user_id!r}",  # type: ignore[attr-defined]
                    where=where,
                )
    vectors: dict[str, Mapping[str, object]] = {
        "episode": writes.episode_vectors,
        "entity": writes.entity_vectors,
        "fact": writes.fact_vectors,
    }
    out: dict[str, dict[str, np.ndarray]] = {}
    for target, by_id in vectors.items():
        out[target] = {
            rid: vector_f32(vec, where=f"{target} {rid} vector") for rid, vec in by_id.items()
        }
    return out
