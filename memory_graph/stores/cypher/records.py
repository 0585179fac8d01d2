"""Records <-> the parameter maps and result rows of the Cypher store (no I/O here).

The fields and their storable values are the shared codec's (``stores._codec``); a node
also holds the pre-tokenised searchable text (:mod:`.ranking`) and, for entities, the
normalised names it is found by.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memlane.memory_graph.model import Entity, FactQuery
from memlane.memory_graph.stores._codec import from_row, name_keys, search_parts, to_row
from memlane.memory_graph.stores._types import Record
from memlane.memory_graph.stores.cypher.ranking import text_props
from memlane.memory_graph.timeutil import to_ms

__all__ = ["fact_filter", "node_props", "param_rows", "record_from_row"]


def node_props(record: Record) -> dict[str, Any]:
    """A record's node properties (all but ``id`` and ``user_id``, which key the node)."""
    props = to_row(record)
    del props["id"], props["user_id"]
    if isinstance(record, Entity):
        props["name_keys"] = name_keys(record)
    props.update(text_props(record.user_id, *search_parts(record)))
    return props


def record_from_row(target: str, user_id: str, row: dict[str, Any]) -> Record:
    """The record of a row of ``queries.project`` (the row carries no ``user_id``)."""
    return from_row(target, row, user_id)


def param_rows(records: Sequence[Record]) -> list[dict[str, Any]]:
    """The ``$episodes`` / ``$entities`` / ``$facts`` parameter of ``Queries.apply``."""
    return [{"id": rec.id, "props": node_props(rec)} for rec in records]


def fact_filter(q: FactQuery) -> tuple[list[str], dict[str, Any]]:
    """WHERE fragments (fixed text) and their parameters for ``FactQuery.matches``."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": q.limit}
    for name in ("subject_id", "predicate", "object_id"):
        value = getattr(q, name)
        if value is not None:
            where.append(f"n.{name} = ${name}")
            params[name] = value
    if q.kinds:
        where.append("n.kind IN $kinds")
        params["kinds"] = list(q.kinds)
    if q.current_only:
        where.append("n.invalid_at IS NULL AND n.expired_at IS NULL")
    if q.as_of is not None:
        where.append("(n.valid_at IS NULL OR n.valid_at <= $as_of)")
        where.append("(n.invalid_at IS NULL OR n.invalid_at > $as_of)")
        params["as_of"] = to_ms(q.as_of)
    if q.as_of is not None or not q.include_retracted:
        where.append("NOT (n.expired_at IS NOT NULL AND n.invalid_at IS NULL)")
    return where, params
