"""Value types of the store port (kept apart from ``base`` so helpers import them freely)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from memlane.memory_graph.model import Entity, Episode, Fact

__all__ = ["Hit", "Record", "SearchTarget", "StoreInfo"]

SearchTarget = Literal["fact", "episode", "entity"]
Record: TypeAlias = Episode | Entity | Fact


@dataclass(frozen=True)
class Hit:
    """One search result: a record id and a score where higher is better."""

    id: str
    score: float


@dataclass(frozen=True)
class StoreInfo:
    """What ``memlane doctor`` reports about a store."""

    url: str
    backend: str
    ok: bool
    details: dict[str, Any]
    problems: tuple[str, ...] = ()
