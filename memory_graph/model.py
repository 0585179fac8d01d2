"""The domain model: episodes, entities, facts, and the write set a turn commits.

Models validate their own fields and do no I/O. Every record carries ``user_id``; stores key
every record by ``(user_id, id)``, so two users may use the same ids without meeting.

Times (see DESIGN "Data model"):

* ``valid_at`` / ``invalid_at``: when the fact was true in the user's world;
* ``recorded_at`` / ``expired_at``: when memlane believed it.

A fact is *current* when both ``invalid_at`` and ``expired_at`` are empty. A fact that was
superseded has ``invalid_at`` (the world moved on) and ``expired_at`` (when memlane learned
it). A fact that was *retracted* (it was never true: a correction, a mistaken extraction) has
``expired_at`` but no ``invalid_at``; it is excluded from every "as of" view of the world
and kept only as history of belief.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from memlane.memory_graph.ids import ID_PATTERN
from memlane.memory_graph.jobs import ExtractionJob
from memlane.memory_graph.limits import MAX_CONTENT_CHARS, MAX_STATEMENT_CHARS
from memlane.memory_graph.timeutil import parse_time, to_iso

__all__ = [
    "CONTROL_CHARACTERS",
    "ID_PATTERN",
    "MAX_CONTENT_CHARS",
    "SELF_ID",
    "TEXT_PATTERN",
    "Entity",
    "EntityKind",
    "Episode",
    "Fact",
    "FactKind",
    "FactQuery",
    "FactStatus",
    "Polarity",
    "StartPrecision",
    "WriteSet",
    "check_content",
    "entity_id_for",
    "episode_id_for",
    "fact_id_for",
    "has_control_characters",
    "normalise_name",
    "object_key_of",
    "text_problem",
    "value_key",
]

SELF_ID = "self"

EntityKind = Literal["self", "person", "place", "org", "pet", "thing", "concept", "event", "other"]
FactKind = Literal["fact", "preference", "event", "trait"]
Polarity = Literal["positive", "negative"]
Role = Literal["user", "assistant", "system"]
StartPrecision = Literal["time", "day", "unknown"]
FactStatus = Literal["current", "upcoming", "ended", "retracted"]
"""A fact at a time (:meth:`Fact.status_at`)."""
"""What was said about a fact's start: a time, a day (``valid_at`` is that day's midnight,
UTC), or nothing (``unknown``: ``valid_at`` is when it was first observed, by which time it
already held). Observed is not started: see :mod:`memlane.memory_graph.temporal`."""

CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
"""What stored text may not hold, as the body of a regex character class: the C0 controls
and DEL, except tab, newline and carriage return (messages have lines)."""
TEXT_PATTERN = rf"^[^{CONTROL_CHARACTERS}]*$"
"""A regex that text without :data:`CONTROL_CHARACTERS` matches (for JSON schemas)."""
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")

Id = Annotated[str, Field(pattern=ID_PATTERN)]


@lru_cache(maxsize=65_536)  # called for every comparison of facts; names repeat a lot
def normalise_name(name: str) -> str:
    """Case-, accent- and whitespace-insensitive key for names and literal values."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode() or name
    folded = re.sub(r"[^\w\s]", " ", folded.casefold())
    folded = re.sub(r"^(the|a|an|my)\s+", "", folded.strip())
    return re.sub(r"\s+", " ", folded).strip()


# Words a chat adds after a value without changing it ("hiking lol", "sushi tbh").
_TRAILING_FILLER = re.compile(
    r"(?:\s+(?:lol+|lmf?ao+|rofl|ha(?:ha)+h?|he(?:he)+|k{3,}|xd+|tbh|imo|ngl|fr|"
    r"though|tho|honestly|really|i guess|i think|haha\w*|and stuff|and all|or whatever|"
    r"these days|nowadays|anymore|any more|now|too|as well))+$"
)


@lru_cache(maxsize=65_536)
def value_key(value: str) -> str:
    """What makes two literal values of one subject and predicate the same value: the
    :func:`normalise_name` key without trailing chat filler ("likes hiking lol" is "likes
    hiking"). Qualifiers that change the value stay ("Paris, Texas" is not "Paris").

    Names of things (entities) meet by their entity instead: exact name, the aliases the
    user has used, or embedding similarity (:mod:`memlane.memory_graph.reconcile`).
    """
    key = normalise_name(value)
    stripped = _TRAILING_FILLER.sub("", key).strip()
    return stripped or key


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:20]


def entity_id_for(name: str) -> str:
    """Deterministic entity id from a name (entities are scoped by user in every store)."""
    return "e_" + _digest(normalise_name(name))


def episode_id_for(session_id: str | None, role: str, occurred_at: datetime, content: str) -> str:
    """Content-hash episode id, so re-ingesting the same message is a no-op."""
    return "ep_" + _digest(session_id or "", role, to_iso(occurred_at) or "", content)


STATEMENT_PREDICATES = frozenset({"note", "related_to"})
"""Catch-all predicates whose meaning is in the statement: "Fintan is my colleague" and
"Fintan is now my manager" are two facts with one object, so their key holds the statement."""

_NEGATION = re.compile(r"\b(?:not|never|no longer|no more)\b|(?<=\w)n t\b")


def _affirmed(statement: str) -> str:
    """The statement as said either way, filler dropped: "Fintan isn't my colleague any more"
    and "Fintan is my colleague" say one thing, so a negation closes the other."""
    return " ".join(_NEGATION.sub(" ", value_key(statement)).split())


def object_key_of(
    object_id: str | None, value: str | None, statement: str, predicate: str = ""
) -> str:
    """What "the same value" means for a fact: the object entity, else the normalised literal,
    else (no object and no value, e.g. a ``note``) the normalised statement. A
    :data:`STATEMENT_PREDICATES` fact about an object (an entity, or a value that is not the
    statement itself) is the object and what the statement says of it, negation aside.

    Without the statement fallback every object-less fact of a subject and predicate would
    share one key, and the temporal rules would take two different notes for one restated
    value.
    """
    said = normalise_name(statement)
    key = object_id or value_key(value or "") or said
    about = object_id or (value and normalise_name(value) != said)
    return f"{key}|{_affirmed(statement)}" if predicate in STATEMENT_PREDICATES and about else key


def fact_id_for(
    subject_id: str,
    predicate: str,
    object_key: str,
    polarity: str,
    valid_at: datetime | None,
    first_episode: str,
) -> str:
    return "f_" + _digest(
        subject_id, predicate, object_key, polarity, to_iso(valid_at) or "", first_episode
    )


def has_control_characters(value: str) -> bool:
    """Whether ``value`` holds any of :data:`CONTROL_CHARACTERS`."""
    return _CONTROL.search(value) is not None


def text_problem(value: str, limit: int) -> str | None:
    """What is wrong with ``value`` as text memlane stores, or ``None``: the one rule every
    entry point (models, drafts, files, tools, HTTP) applies.

    Returns:
        ``"contains control characters"``, ``"is empty"`` (blank counts as empty),
        ``"is N characters; the limit is L"``, or ``None`` when the text is fine.
    """
    if has_control_characters(value):
        return "contains control characters"
    if not value.strip():
        return "is empty"
    if len(value) > limit:
        return f"is {len(value)} characters; the limit is {limit}"
    return None


def _check_text(value: str, what: str, limit: int) -> str:
    problem = text_problem(value, limit)
    if problem:
        raise ValueError(f"{what} {problem}")
    return value


def check_content(value: str) -> str:
    """The rule for a message's text (``Episode.content``), for models built from user input.

    Raises:
        ValueError: control characters (other than tab and newlines), empty, or too long.
    """
    return _check_text(value, "content", MAX_CONTENT_CHARS)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _times(cls, value: object, info) -> object:  # type: ignore[no-untyped-def]
        name = info.field_name or ""
        if name.endswith("_at") and value is not None and not isinstance(value, datetime):
            return parse_time(value, field=name)  # type: ignore[arg-type]
        if name.endswith("_at") and isinstance(value, datetime):
            return parse_time(value, field=name)
        return value


class Episode(_Record):
    """One message as received: the provenance of everything memlane knows."""

    id: Id
    user_id: Id
    session_id: Id | None = None
    role: Role = "user"
    speaker: str | None = Field(default=None, max_length=200)
    content: str
    occurred_at: datetime
    recorded_at: datetime

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        return check_content(value)


class Entity(_Record):
    """A node of the user's graph: a person, place, organisation, pet, thing, or the user."""

    id: Id
    user_id: Id
    name: str = Field(min_length=1, max_length=300)
    kind: EntityKind = "other"
    aliases: tuple[str, ...] = ()
    summary: str = Field(default="", max_length=MAX_STATEMENT_CHARS)
    created_at: datetime

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_text(value, "entity name", 300)


class Fact(_Record):
    """An edge ``subject -[predicate]-> object`` with its validity and belief windows."""

    id: Id
    user_id: Id
    subject_id: Id
    predicate: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")
    object_id: Id | None = None
    value: str | None = Field(default=None, max_length=1000)
    statement: str
    kind: FactKind = "fact"
    polarity: Polarity = "positive"
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    recorded_at: datetime
    expired_at: datetime | None = None
    episode_ids: tuple[Id, ...] = ()
    start_precision: StartPrecision | None = Field(
        default=None,
        description="what was said about the start; None: not recorded (see start_known)",
    )

    @field_validator("statement")
    @classmethod
    def _statement(cls, value: str) -> str:
        return _check_text(value, "statement", MAX_STATEMENT_CHARS)

    @model_validator(mode="after")
    def _window(self) -> Fact:
        if self.valid_at and self.invalid_at and self.invalid_at < self.valid_at:
            raise ValueError(
                f"invalid_at {to_iso(self.invalid_at)} is before valid_at {to_iso(self.valid_at)}"
            )
        return self

    @property
    def object_key(self) -> str:
        """What "same value" means: the object entity, else the normalised literal, else the
        normalised statement (see :func:`object_key_of`)."""
        return object_key_of(self.object_id, self.value, self.statement, self.predicate)

    @property
    def is_current(self) -> bool:
        """Never closed (no end, not expired). Whether it is true *now* is
        :meth:`status_at`: this ignores the clock (a future start, a future end)."""
        return self.invalid_at is None and self.expired_at is None

    @property
    def is_retracted(self) -> bool:
        return self.expired_at is not None and self.invalid_at is None

    @property
    def precision(self) -> StartPrecision:
        """:attr:`start_precision`, or for a fact that did not record it, what its start
        looks like: a midnight is a date (``day``), anything else a time."""
        if self.start_precision is not None:
            return self.start_precision
        if self.valid_at is None:
            return "unknown"
        t = self.valid_at
        return "day" if (t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0) else "time"

    @property
    def start(self) -> datetime:
        """When it became true, for ordering; facts with no ``valid_at`` count from when they
        were recorded, or from their end if that is earlier (a story of an unknown start)."""
        if self.valid_at is not None:
            return self.valid_at
        if self.invalid_at is not None and self.invalid_at < self.recorded_at:
            return self.invalid_at
        return self.recorded_at

    def status_at(self, now: datetime) -> FactStatus:
        """What the fact is at ``now``: ``current`` (true now), ``upcoming`` (its start is
        still to come: a plan's home, a future-dated import), ``ended`` or ``retracted``.

        Current means true now, not "never closed": a value that a future start will end is
        current until then, and a start still to come becomes current when its date
        arrives, with no write.
        """
        if self.is_retracted:
            return "retracted"
        if self.valid_during(now):
            return "current"
        return "upcoming" if self.valid_at is not None and self.valid_at > now else "ended"

    def valid_during(self, when: datetime) -> bool:
        """True in the user's world at ``when`` (as memlane believes now)."""
        if self.is_retracted:
            return False
        if self.valid_at is not None and self.valid_at > when:
            return False
        return self.invalid_at is None or self.invalid_at > when


class FactQuery(BaseModel):
    """Which facts to read. Every field narrows; ``as_of`` is a time in the user's world."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject_id: str | None = None
    predicate: str | None = None
    object_id: str | None = None
    kinds: tuple[FactKind, ...] = ()
    as_of: datetime | None = None
    current_only: bool = False
    include_retracted: bool = False
    newest_first: bool = False
    """Order by start descending (then recorded, id): the ``limit`` newest, not the oldest."""
    limit: int = Field(default=1000, ge=1, le=1_000_000)

    def matches(self, fact: Fact) -> bool:
        """The reference semantics every store implements (also used by in-memory filters)."""
        if self.subject_id is not None and fact.subject_id != self.subject_id:
            return False
        if self.predicate is not None and fact.predicate != self.predicate:
            return False
        if self.object_id is not None and fact.object_id != self.object_id:
            return False
        if self.kinds and fact.kind not in self.kinds:
            return False
        if self.current_only and not fact.is_current:
            return False
        if self.as_of is not None and not fact.valid_during(self.as_of):
            return False
        return self.include_retracted or not fact.is_retracted


@dataclass
class WriteSet:
    """Everything one turn (or one import batch) writes, applied atomically by a store.

    Episodes are insert-if-absent (an existing episode is never changed); entities and facts
    are upserts by ``(user_id, id)``. Vectors are float32 and optional per record.

    ``if_version`` makes the write conditional: it lands only if the user's write version
    (``GraphStore.write_version``) is still that value, the one read before the write set
    was derived from the graph; otherwise nothing is written and the store raises
    ``ConflictError``. Writers in other processes (replicas over one graph server) are so
    serialised by the database itself.
    """

    user_id: str
    episodes: list[Episode] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    episode_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    entity_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    fact_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    if_version: str | None = None
    jobs: list[ExtractionJob] = field(default_factory=list)
    """Extraction jobs to upsert in the same transaction (``memory_graph.jobs``)."""

    def __post_init__(self) -> None:
        records: list[Episode | Entity | Fact | ExtractionJob] = [
            *self.episodes,
            *self.entities,
            *self.facts,
            *self.jobs,
        ]
        for rec in records:
            if rec.user_id != self.user_id:
                raise ValueError(
                    f"write set for user {self.user_id!r} holds a record of {rec.user_id!r}"
                )

    def is_empty(self) -> bool:
        return not (self.episodes or self.entities or self.facts or self.jobs)
