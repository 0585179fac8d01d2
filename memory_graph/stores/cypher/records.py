"""Records <-> the parameter maps and result rows of the Cypher store (no I/O here).

Times travel as epoch milliseconds; lists (aliases, episode ids) as lists of strings; the
full-text property holds the pre-tokenised text (:mod:`.ranking`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memlane.memory_graph.model import Entity, Episode, Fact, FactQuery, normalise_name
from memlane.memory_graph.stores.cypher.ranking import text_props
from memlane.memory_graph.timeutil import from_ms, to_ms

__all__ = [
    "entity_from_row",
    "entity_props",
    "episode_from_row",
    "episode_props",
    "fact_filter",
    "fact_from_row",
    "fact_props",
    "param_rows",
]


def _ms(value: Any) -> int | None:
    return None if value is None else to_ms(value)


def _time(value: Any) -> Any:
    return None if value is None else from_ms(int(value))


# -- records <-> parameter rows ----------------------------------------------------------------


def episode_props(ep: Episode) -> dict[str, Any]:
    return {
        "session_id": ep.session_id,
        "role": ep.role,
        "speaker": ep.speaker,
        "content": ep.content,
        "occurred_at": to_ms(ep.occurred_at),
        "recorded_at": to_ms(ep.recorded_at),
        **text_props(ep.user_id, ep.content),
    }


def name_keys(en: Entity) -> list[str]:
    keys = (normalise_name(n) for n in (en.name, *en.aliases))
    return list(dict.fromkeys(k for k in keys if k))


def entity_props(en: Entity) -> dict[str, Any]:
    return {
        "name": en.name,
        "kind": en.kind,
        "aliases": list(en.aliases),
        "summary": en.summary,
        "created_at": to_ms(en.created_at),
        "name_keys": name_keys(en),
        **text_props(en.user_id, en.name, *en.aliases),
    }


def fact_props(f: Fact) -> dict[str, Any]:
    return {
        "subject_id": f.subject_id,
        "predicate": f.predicate,
        "object_id": f.object_id,
        "value": f.value,
        "statement": f.statement,
        "kind": f.kind,
        "polarity": f.polarity,
        "confidence": float(f.confidence),
        "valid_at": _ms(f.valid_at),
        "invalid_at": _ms(f.invalid_at),
        "recorded_at": to_ms(f.recorded_at),
        "expired_at": _ms(f.expired_at),
        "episode_ids": list(f.episode_ids),
        **text_props(f.user_id, f.statement, f.value),
    }


# Rows come only from records validated on the way in, so they are rebuilt without a second
# validation (as the SQLite store does).


def episode_from_row(user_id: str, r: dict[str, Any]) -> Episode:
    return Episode.model_construct(
        id=r["id"],
        user_id=user_id,
        session_id=r["session_id"],
        role=r["role"],
        speaker=r["speaker"],
        content=r["content"],
        occurred_at=from_ms(int(r["occurred_at"])),
        recorded_at=from_ms(int(r["recorded_at"])),
    )


def entity_from_row(user_id: str, r: dict[str, Any]) -> Entity:
    return Entity.model_construct(
        id=r["id"],
        user_id=user_id,
        name=r["name"],
        kind=r["kind"],
        aliases=tuple(r["aliases"] or ()),
        summary=r["summary"] or "",
        created_at=from_ms(int(r["created_at"])),
    )


def fact_from_row(user_id: str, r: dict[str, Any]) -> Fact:
    return Fact.model_construct(
        id=r["id"],
        user_id=user_id,
        subject_id=r["subject_id"],
        predicate=r["predicate"],
        object_id=r["object_id"],
        value=r["value"],
        statement=r["statement"],
        kind=r["kind"],
        polarity=r["polarity"],
        confidence=float(r["confidence"]),
        valid_at=_time(r["valid_at"]),
        invalid_at=_time(r["invalid_at"]),
        recorded_at=from_ms(int(r["recorded_at"])),
        expired_at=_time(r["expired_at"]),
        episode_ids=tuple(r["episode_ids"] or ()),
    )


def param_rows(records: Sequence[Any], props: Any) -> list[dict[str, Any]]:
    return [{"id": rec.id, "props": props(rec)} for rec in records]


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
