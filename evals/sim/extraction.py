"""Extraction scored per turn: which of a turn's true facts the agent wrote, and what else.

After each turn, the facts that cite the turn's episode (new, or restatements that gained it)
are compared with the turn's drafts from the simulator:

* a draft is *found* when a fact has the same subject, predicate and object (names
  normalised) and the same stance (``likes`` + negative counts as ``dislikes`` + positive);
* a found draft is *dated right* when its ``valid_at`` falls on the draft's day, except for a
  draft that restates a gold fact already holding before the turn ("I still live in Oslo"):
  memory rightly keeps the original start when it merges a restatement, so such a fact is
  dated right when its window contains the turn time and it starts on the original start's
  day or on the turn's day;
* an extracted fact that matches no draft is *spurious*, unless it is true and said in the
  turn: it *restates* a gold fact told earlier that holds at the turn time ("My brother
  Adrian moved..." restates ``has_sibling Adrian``), or it is the negation of a gold fact
  this very turn ended ("I left Lufthansa and joined Bosch" -> ``works_at Lufthansa``,
  negative, where a draft of the turn starts the new value the day Lufthansa ended). Either
  way its object must be named in the turn's text, so a true fact the turn never mentioned
  stays spurious. Both are counted separately (``extra_correct``).

Results are kept per kind of thing said (``move``, ``job_change``, ``meet``...), with a few
example sentences that were missed, so a gap in extraction names the phrasing behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memlane.evals.sim.timeline import GoldFact, Turn
from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.model import SELF_ID, Fact, normalise_name

__all__ = ["ExtractionTally"]

_EXAMPLES = 3


Key = tuple[str, str, str, bool]


def _key(subject: str, predicate: str, obj: str, polarity: str) -> Key:
    """(subject, predicate, object, positive); ``dislikes X`` is ``likes X`` negated."""
    positive = polarity == "positive"
    if predicate == "dislikes":
        predicate, positive = "likes", not positive
    return subject, predicate, normalise_name(obj), positive


def _draft_key(d: FactDraft) -> Key:
    subject = SELF_ID if d.about_self else normalise_name(d.subject)
    return _key(subject, d.predicate, d.object or "", d.polarity)


def _holds(valid_at: datetime, invalid_at: datetime | None, when: datetime) -> bool:
    return valid_at <= when and (invalid_at is None or when < invalid_at)


@dataclass
class _Kind:
    told: int = 0
    drafts: int = 0
    found: int = 0
    dated: int = 0
    missed: list[str] = field(default_factory=list)


@dataclass
class ExtractionTally:
    """Running counts over a simulation (agent writer only)."""

    gold: Sequence[GoldFact] = ()
    kinds: dict[str, _Kind] = field(default_factory=lambda: defaultdict(_Kind))
    extracted: int = 0
    spurious: int = 0
    restated: int = 0
    ended: int = 0
    spurious_examples: list[str] = field(default_factory=list)
    _by_key: dict[Key, list[GoldFact]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key = defaultdict(list)
        for g in self.gold:
            self._by_key[_draft_key(g.to_draft())].append(g)

    def _holding(self, key: Key, when: datetime, session: int) -> GoldFact | None:
        """The gold fact with this key, told by ``session``, that holds at ``when``."""
        for g in self._by_key.get(key, ()):
            if g.told_in <= session and _holds(g.valid_at, g.invalid_at, when):
                return g
        return None

    def _ended_here(self, key: Key, turn: Turn, session: int) -> bool:
        """``key`` (negative) denies a gold fact that a draft of this turn replaced."""
        subject, predicate, obj, positive = key
        if positive:
            return False
        starts = {
            d.valid_at
            for d in turn.drafts
            if d.valid_at and _draft_key(d)[:2] == (subject, predicate) and _draft_key(d)[3]
        }
        return any(
            g.closed_in == session and g.invalid_at in starts
            for g in self._by_key.get((subject, predicate, obj, True), ())
        )

    def _dated_right(self, draft: FactDraft, fact: Fact, turn: Turn, session: int) -> bool:
        if not (draft.valid_at and fact.valid_at):
            return False
        original = self._holding(_draft_key(draft), turn.at, session)
        if original is None or original.valid_at >= draft.valid_at:
            return fact.valid_at.date() == draft.valid_at.date()
        # A restatement: memory keeps the original start (merged) or starts it at the turn.
        return _holds(fact.valid_at, fact.invalid_at, turn.at) and fact.valid_at.date() in (
            original.valid_at.date(),
            draft.valid_at.date(),
        )

    def add(
        self,
        turn: Turn,
        text: str,
        facts: list[Fact],
        names: dict[str, str],
        *,
        session: int,
    ) -> None:
        """Score one turn: ``facts`` are those citing its episode; ``names`` maps entity ids.

        Args:
            turn: the simulator's turn (its drafts are what a perfect extractor returns).
            text: the user message as sent.
            facts: the stored facts citing the turn's episode.
            names: entity id -> name.
            session: the turn's session index (``Session.index``), to tell which gold facts
                were told by then.
        """

        def key(f: Fact) -> Key:
            subject = (
                SELF_ID
                if f.subject_id == SELF_ID
                else normalise_name(names.get(f.subject_id, f.subject_id))
            )
            obj = names.get(f.object_id, f.object_id) if f.object_id else (f.value or "")
            return _key(subject, f.predicate, obj, f.polarity)

        got = {key(f): f for f in facts}
        wanted: set[Key] = set()
        for told in turn.told:
            if not told.drafts:
                continue
            kind = self.kinds[told.kind]
            kind.told += 1
            missed = False
            for draft in told.drafts:
                k = _draft_key(draft)
                wanted.add(k)
                kind.drafts += 1
                fact = got.get(k)
                if fact is None:
                    missed = True
                    continue
                kind.found += 1
                if self._dated_right(draft, fact, turn, session):
                    kind.dated += 1
            if missed and len(kind.missed) < _EXAMPLES:
                kind.missed.append(text)
        self.extracted += len(got)
        said = f" {normalise_name(text)} "
        extra = []
        for k in (k for k in got if k not in wanted):
            if f" {k[2]} " not in said:  # a fact the turn does not name is never a hit
                extra.append(k)
            elif self._holding(k, turn.at, session) is not None:
                self.restated += 1
            elif self._ended_here(k, turn, session):
                self.ended += 1
            else:
                extra.append(k)
        self.spurious += len(extra)
        for k in extra:
            if len(self.spurious_examples) < 10:
                self.spurious_examples.append(
                    f"{text!r} -> {k[0]} {k[1]} {k[2]!r}{'' if k[3] else ' (negative)'}"
                )

    def summary(self) -> dict[str, Any]:
        """Recall (found/drafts), dating and missed examples per kind; overall precision.

        Precision counts as correct what matches a draft of the turn, plus ``extra_correct``:
        true restatements and negations of what the turn ended.
        """
        kinds = {}
        for name in sorted(self.kinds):
            k = self.kinds[name]
            kinds[name] = {
                "told": k.told,
                "recall": round(k.found / k.drafts, 3) if k.drafts else None,
                "dated_right": round(k.dated / k.found, 3) if k.found else None,
                "missed_examples": k.missed,
            }
        drafts = sum(k.drafts for k in self.kinds.values())
        found = sum(k.found for k in self.kinds.values())
        return {
            "recall": round(found / drafts, 3) if drafts else None,
            "precision": (
                round((self.extracted - self.spurious) / self.extracted, 3)
                if self.extracted
                else None
            ),
            "drafts": drafts,
            "found": found,
            "extracted": self.extracted,
            "spurious": self.spurious,
            "extra_correct": {"restated": self.restated, "ended": self.ended},
            "spurious_examples": self.spurious_examples,
            "by_kind": kinds,
        }
