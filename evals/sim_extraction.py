"""Extraction scored per turn: which of a turn's true facts the agent wrote, and what else.

After each turn, the facts that cite the turn's episode (new, or restatements that gained it)
are compared with the turn's drafts from the simulator:

* a draft is *found* when a fact has the same subject, predicate and object (names
  normalised) and the same stance (``likes`` + negative counts as ``dislikes`` + positive);
* a found draft is *dated right* when its ``valid_at`` falls on the draft's day;
* an extracted fact that matches no draft is *spurious*.

Results are kept per kind of thing said (``move``, ``job_change``, ``meet``...), with a few
example sentences that were missed, so a gap in extraction names the phrasing behind it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from evals.sim_timeline import Turn
from memory_graph.drafts import FactDraft
from memory_graph.model import SELF_ID, Fact, normalise_name

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

    kinds: dict[str, _Kind] = field(default_factory=lambda: defaultdict(_Kind))
    extracted: int = 0
    spurious: int = 0
    spurious_examples: list[str] = field(default_factory=list)

    def add(self, turn: Turn, text: str, facts: list[Fact], names: dict[str, str]) -> None:
        """Score one turn: ``facts`` are those citing its episode; ``names`` maps entity ids."""

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
                if (
                    draft.valid_at
                    and fact.valid_at
                    and fact.valid_at.date() == draft.valid_at.date()
                ):
                    kind.dated += 1
            if missed and len(kind.missed) < _EXAMPLES:
                kind.missed.append(text)
        self.extracted += len(got)
        extra = [k for k in got if k not in wanted]
        self.spurious += len(extra)
        for k in extra:
            if len(self.spurious_examples) < 10:
                self.spurious_examples.append(
                    f"{text!r} -> {k[0]} {k[1]} {k[2]!r}{'' if k[3] else ' (negative)'}"
                )

    def summary(self) -> dict[str, Any]:
        """Recall (found/drafts), dating and missed examples per kind; overall precision."""
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
            "spurious_examples": self.spurious_examples,
            "by_kind": kinds,
        }
