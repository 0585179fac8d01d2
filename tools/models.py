"""Typed results of the memory tools: what the CLI prints, the HTTP API returns and MCP sends.

Views flatten the domain records for readers: a fact carries its subject's and object's names
and a ``status`` so a table, a JSON client or an LLM need not join anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from memlane.memory_graph.limits import (
    MAX_NAME_CHARS,
    MAX_PREDICATE_CHARS,
    MAX_QUERY_CHARS,
    MAX_TIME_CHARS,
)
from memlane.memory_graph.model import Entity, Episode, Fact, FactKind, FactStatus, Polarity
from memlane.memory_graph.naming import Names

__all__ = [
    "Corrected",
    "Diff",
    "EntityView",
    "EpisodeView",
    "Explanation",
    "Export",
    "FactList",
    "FactStatus",
    "FactView",
    "Forgotten",
    "GraphView",
    "History",
    "Profile",
    "Remembered",
    "SearchResult",
    "Timeline",
    "TimelineEvent",
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def _copy(cls, record: BaseModel, **extra: Any) -> Self:
        """A view holding the fields it shares with ``record`` (tuples as lists), plus
        ``extra``."""
        shared = {
            name: list(value) if isinstance(value, tuple) else value
            for name in cls.model_fields
            if name in type(record).model_fields and name not in extra
            for value in (getattr(record, name),)
        }
        return cls(**shared, **extra)


class EntityView(_View):
    """A node of the user's graph."""

    id: str
    name: str
    kind: str
    aliases: list[str] = Field(default_factory=list)
    summary: str = ""

    @classmethod
    def of(cls, entity: Entity) -> EntityView:
        return cls._copy(entity)


class EpisodeView(_View):
    """A message memlane learned from, with when it was said."""

    id: str
    session_id: str | None = None
    role: str
    speaker: str | None = None
    content: str
    occurred_at: datetime
    recorded_at: datetime
    score: float | None = None

    @classmethod
    def of(cls, episode: Episode, score: float | None = None) -> EpisodeView:
        return cls._copy(episode, score=score)


class FactView(_View):
    """One fact with its names resolved, its validity window and its belief window."""

    id: str
    subject_id: str
    subject: str = Field(description="the subject's name")
    predicate: str
    object_id: str | None = None
    object: str | None = Field(default=None, description="the object's name, or the value")
    statement: str
    kind: FactKind
    polarity: Polarity
    confidence: float
    valid_at: datetime | None = Field(default=None, description="became true in the world")
    invalid_at: datetime | None = Field(default=None, description="stopped being true")
    recorded_at: datetime = Field(description="when memlane learned it")
    expired_at: datetime | None = Field(default=None, description="when memlane stopped believing")
    episode_ids: list[str] = Field(default_factory=list)
    status: FactStatus
    score: float | None = None

    @classmethod
    def of(cls, fact: Fact, names: Names, score: float | None = None) -> FactView:
        """A view of ``fact`` as read at ``names.now``: current names (missing ids show as
        ids), the statement in them, and its status then."""
        obj = names.name(fact.object_id) if fact.object_id else fact.value
        return cls._copy(
            fact,
            subject=names.name(fact.subject_id),
            object=obj,
            statement=names.statement(fact),
            status=fact.status_at(names.now),
            score=score,
        )


class Profile(_View):
    """What memlane believes is true about the user (now, or as of a time), grouped by kind,
    and what no longer holds."""

    user_id: str
    as_of: datetime | None = None
    facts: dict[str, list[FactView]] = Field(
        description="facts keyed by kind: fact, preference, event, trait"
    )
    no_longer: list[FactView] = Field(
        default_factory=list,
        description="negative facts that ended a former value ('no longer works at Acme'): "
        "a record of change, not part of the groups",
    )
    count: int = Field(description="how many facts the groups hold")


class SearchResult(_View):
    """Facts and messages relevant to a query, and the compact text an LLM would be given."""

    user_id: str
    query: str
    as_of: datetime | None = None
    facts: list[FactView]
    superseded: list[FactView] = Field(default_factory=list)
    episodes: list[EpisodeView] = Field(default_factory=list)
    text: str = ""


class FactList(_View):
    """Facts matching a filter."""

    user_id: str
    as_of: datetime | None = None
    subject: str | None = None
    predicate: str | None = None
    include_ended: bool = Field(default=False, description="ended facts were asked for too")
    facts: list[FactView]


class History(_View):
    """Every value a subject's predicate has had, oldest first, with validity windows."""

    user_id: str
    subject: str
    predicate: str
    facts: list[FactView]


class Explanation(_View):
    """Why memlane believes a fact: its source messages and what it replaced or was replaced by."""

    user_id: str
    fact: FactView
    learned_at: datetime
    episodes: list[EpisodeView]
    superseded: list[FactView] = Field(description="facts this one closed")
    superseded_by: list[FactView] = Field(description="facts that closed this one")


class Diff(_View):
    """What became true and what stopped being true in the user's world between two times."""

    user_id: str
    since: datetime
    until: datetime
    started: list[FactView]
    ended: list[FactView]


class Remembered(_View):
    """An explicit memory: the note fact and the episode that records the request."""

    user_id: str
    fact: FactView
    episode: EpisodeView


class Corrected(_View):
    """A correction: the retracted fact, its replacement, and the episode recording it."""

    user_id: str
    old: FactView
    new: FactView
    episode: EpisodeView


class Forgotten(_View):
    """What was deleted."""

    user_id: str
    fact_id: str | None = None
    deleted: dict[str, int]


class Export(_View):
    """Every record of a user, in the ``memlane.memory_graph.io`` record format."""

    user_id: str
    records: list[dict[str, Any]]
    counts: dict[str, int]

    def jsonl(self) -> Iterator[str]:
        """The records as JSON lines (what ``memlane import`` reads), newline included."""
        for record in self.records:
            yield json.dumps(record, ensure_ascii=False) + "\n"


GRAPH_NODES = 120
"""Nodes (and facts) a graph view shows by default: enough to read, few to lay out at once."""
MAX_GRAPH_NODES = 2_000


class GraphFilter(BaseModel):
    """Which part of the user's graph to show (every filter optional, all must hold)."""

    since: str | None = Field(
        default=None, max_length=MAX_TIME_CHARS, description="facts that started at or after"
    )
    until: str | None = Field(
        default=None, max_length=MAX_TIME_CHARS, description="facts that started before"
    )
    predicate: str | None = Field(
        default=None, max_length=MAX_PREDICATE_CHARS, description="only this predicate"
    )
    entity: str | None = Field(
        default=None,
        max_length=MAX_NAME_CHARS,
        description="only facts touching this entity (its name or id)",
    )
    q: str | None = Field(
        default=None,
        max_length=MAX_QUERY_CHARS,
        description="words that must all appear in the fact (statement or names)",
    )
    limit: int = Field(
        default=GRAPH_NODES,
        ge=1,
        le=MAX_GRAPH_NODES,
        description="cap on nodes and on facts; the most relevant facts are kept",
    )


class GraphView(_View):
    """The user's graph as of a time: entities (nodes) and the facts between them (edges).

    A large graph is cut to a node budget, the most relevant facts first (see
    ``memlane.tools.queries.graph``); ``total_facts`` counts every fact the filters matched.
    """

    user_id: str
    as_of: datetime | None = None
    entities: list[EntityView]
    facts: list[FactView]
    total_facts: int = Field(default=0, description="facts matching the filters, before the cap")
    truncated: bool = Field(default=False, description="the node cap left facts out")
    predicates: dict[str, int] = Field(
        default_factory=dict, description="predicates of the facts holding then, with counts"
    )


class TimelineEvent(_View):
    """One change: a fact started or ended in the world, or memlane retracted it."""

    at: datetime
    change: Literal["started", "ended", "retracted"]
    fact: FactView


class Timeline(_View):
    """Changes to the user's graph, newest first."""

    user_id: str
    events: list[TimelineEvent]
