"""The simulated user's timeline: sessions, what is said in them, and the gold facts.

A timeline is produced by :func:`memlane.evals.sim.generate.generate_timeline`. It holds

* sessions, each a list of user turns; a turn says zero or more :class:`Told` things, each
  of which carries the :class:`~memlane.memory_graph.drafts.FactDraft` objects a perfect extractor
  would return for it (what ``--gold`` ingests);
* gold facts: the validity windows those drafts must produce under memlane's temporal rules
  (what the probes are scored against). A gold fact also records in which session it was told
  and in which session the user said what ended it, so the gold view "after k sessions" is
  exact: memory can only know what it was told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from memlane.memory_graph.drafts import FactDraft, ObjectKind
from memlane.memory_graph.model import EntityKind, FactKind, Polarity, normalise_name

__all__ = [
    "SELF",
    "GoldFact",
    "Person",
    "Precision",
    "Session",
    "Timeline",
    "Told",
    "Turn",
]

SELF = "user"

Precision = Literal["session", "exact", "week", "year"]
"""How precisely the user conveyed when a fact started.

``session``: not said (memory dates it by the turn); ``exact``: a day ("yesterday", "on
Saturday", "on 3 March"); ``week``: "last week"; ``year``: "back in 2016".
"""


class GoldFact(BaseModel):
    """One fact with the validity window memlane's rules give it, in FactDraft terms."""

    model_config = ConfigDict(frozen=True)

    id: str
    subject: str
    subject_kind: EntityKind = "person"
    predicate: str
    object: str
    object_kind: ObjectKind = "value"
    statement: str
    kind: FactKind = "fact"
    polarity: Polarity = "positive"
    valid_at: datetime
    invalid_at: datetime | None = None
    told_in: int
    closed_in: int | None = None
    precision: Precision = "session"
    planned: bool = False

    def known_after(self, sessions: int) -> GoldFact | None:
        """This fact as memory should hold it after ``sessions`` sessions (None: not told)."""
        if self.told_in >= sessions:
            return None
        if self.closed_in is not None and self.closed_in >= sessions:
            return self.model_copy(update={"invalid_at": None, "closed_in": None})
        return self

    def valid_during(self, when: datetime) -> bool:
        return self.valid_at <= when and (self.invalid_at is None or when < self.invalid_at)

    @property
    def object_key(self) -> str:
        return normalise_name(self.object)

    def to_draft(self) -> FactDraft:
        """The draft that states this fact with its full window."""
        return FactDraft(
            subject=self.subject,
            subject_kind=self.subject_kind,
            predicate=self.predicate,
            object=self.object,
            object_kind=self.object_kind,
            statement=self.statement,
            kind=self.kind,
            polarity=self.polarity,
            valid_at=self.valid_at,
            invalid_at=self.invalid_at,
        )


@dataclass(frozen=True)
class Told:
    """One thing the user says: a template kind, its slots, and the drafts it implies."""

    kind: str
    slots: dict[str, str]
    drafts: tuple[FactDraft, ...] = ()


@dataclass(frozen=True)
class Turn:
    """One user message (rendered later) and when it was sent."""

    at: datetime
    told: tuple[Told, ...]

    @property
    def drafts(self) -> tuple[FactDraft, ...]:
        return tuple(d for t in self.told for d in t.drafts)


@dataclass(frozen=True)
class Session:
    index: int
    id: str
    started_at: datetime
    turns: tuple[Turn, ...]

    @property
    def chitchat(self) -> bool:
        """True when nothing in the session states a fact."""
        return not any(turn.drafts for turn in self.turns)


@dataclass(frozen=True)
class Person:
    """Someone in the user's life, reached from the user by ``relation``."""

    name: str
    role: str  # "sister", "best friend", "mom" ... (how the user refers to them)
    relation: str  # predicate from the user: has_sibling, friend_of, has_parent
    introduced_in: int


@dataclass
class Timeline:
    """A seeded simulated user: sessions plus the gold facts they imply."""

    seed: int
    user_id: str
    user_name: str
    sessions: list[Session] = field(default_factory=list)
    gold: list[GoldFact] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    functional: frozenset[str] = frozenset()

    def known_after(self, sessions: int) -> list[GoldFact]:
        """Gold facts as memory should hold them after the first ``sessions`` sessions."""
        out = []
        for fact in self.gold:
            known = fact.known_after(sessions)
            if known is not None:
                out.append(known)
        return out

    def windows(
        self, subject: str, predicate: str, sessions: int, obj: str | None = None
    ) -> list[GoldFact]:
        """Known facts for ``(subject, predicate[, object])``, ordered by ``valid_at``."""
        key = normalise_name(obj) if obj is not None else None
        found = [
            f
            for f in self.known_after(sessions)
            if f.subject == subject
            and f.predicate == predicate
            and (key is None or f.object_key == key)
        ]
        return sorted(found, key=lambda f: f.valid_at)

    def people_known_after(self, sessions: int) -> list[Person]:
        return [p for p in self.people if p.introduced_in < sessions]

    def time_after(self, sessions: int) -> datetime:
        """The moment right after the last turn of session ``sessions - 1``."""
        last = self.sessions[sessions - 1]
        return last.turns[-1].at if last.turns else last.started_at
