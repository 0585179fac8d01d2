"""Temporal rules: how a new fact meets the facts already known (DESIGN "Temporal rules").

:func:`resolve` is a pure function. It reads a new fact and the existing facts it may conflict
with, and returns what to insert and which existing facts change (as new objects). It does no
I/O and never mutates its inputs; the reconciler applies its answer as part of one write set.

The rules, in the order they apply:

* Retracted facts (``expired_at`` without ``invalid_at``) never take part.
* **Conflicts** of the new fact are the existing facts with the same subject and predicate
  that hold the opposite polarity of the same value, or, for a *functional* predicate and a
  positive new fact, a different positive value. Facts the caller names in ``contradicts``
  join them, but only when they share the new fact's subject (never across unrelated parts of
  the graph).
* **Corrections**: facts the caller names in ``corrects`` (same subject only) were never
  true: they are retracted (``expired_at = now``, ``invalid_at`` left empty), not ended.
* Conflicts form a timeline ordered by start (``valid_at``, else ``recorded_at``). Every
  conflict that started at or before the new fact and whose window reaches past the new
  fact's start is closed there (``invalid_at = new.start``, ``expired_at = now``): at equal
  starts the newly recorded fact wins. If a conflict starts *after* the new fact, the new
  fact is an old story: it is inserted already closed at the next conflict's start, and the
  current value is left alone.
* **Observed is not started.** A fact whose start was never said (precision ``unknown``:
  its ``valid_at`` is when it was first observed) does not sort as if it began then. A new
  open fact said *after* that observation supersedes it even when its stated start is
  earlier ("I live in Lisbon", then "I moved to Berlin yesterday"): the old one ends at the
  new start (its start, never said, stays unknown), however far back that start is: an
  open fact says it holds now, and it is the later word. Likewise a date (precision
  ``day``) against a time on the same day: the later message wins, in either order. A
  story says it ended: with its own window (``invalid_at`` given) it never overrides the
  present this way ("when I lived in Cape Town in 2018" is told with an end), and neither
  does the same value told again within a period memory knows has ended.
* **An end told later**: the same value told with an end (``invalid_at``) for a period
  that is still open closes that period at the told end.
* **Restatement**: an existing fact with the same subject, predicate, value and polarity
  whose window contains the new fact's start (or that the caller names in ``restates``) is
  not duplicated; it gains the new episode ids and the higher confidence. The same value
  told *after* its window closed (moving back to Paris after Berlin) is a new period.
  The same value told *earlier* than a known period, with no conflict in between, moves
  that period's start back instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from memlane.memory_graph.model import Fact

__all__ = ["Resolution", "resolve"]


@dataclass(frozen=True)
class Resolution:
    """What to write for one new fact.

    Attributes:
        insert: the fact to insert (possibly already closed), or None when it restates one.
        updates: new versions of existing facts (closed, or merged with the new episodes).
        merged_into: id of the existing fact the new one restates, if any.
        notes: human-readable remarks (ignored ``contradicts`` ids, merges, closures).
    """

    insert: Fact | None
    updates: list[Fact] = field(default_factory=list)
    merged_into: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def closed_ids(self) -> list[str]:
        """Ids of existing facts this resolution closes."""
        return [f.id for f in self.updates if f.id != self.merged_into]


def _copy(fact: Fact, **changes: Any) -> Fact:
    # Re-validate rather than model_copy: a closed window must still be a valid window.
    return Fact.model_validate({**fact.model_dump(), **changes})


def _reaches_past(fact: Fact, when: datetime) -> bool:
    return fact.invalid_at is None or fact.invalid_at > when


def _contains(fact: Fact, when: datetime) -> bool:
    if fact.valid_at is None and fact.invalid_at is not None:
        # A story of unknown start ("until 2012") held at any time before its end that we
        # know of; its ordering start (the end itself) would contain nothing.
        return when < fact.invalid_at
    return fact.start <= when and _reaches_past(fact, when)


def _same_day(a: datetime, b: datetime) -> bool:
    return a.date() == b.date()


def _supersedes(new: Fact, old: Fact, said_at: datetime) -> bool:
    """Whether an open ``new``, said at ``said_at``, is the later truth than ``old`` although
    its stated start sorts before ``old``'s (see the module rules)."""
    if new.invalid_at is not None:
        return False  # a story with its own window never overrides the present
    if old.precision == "unknown":
        # An open fact says it holds now; said after the observation, it is the later word,
        # however far back its start. A story says it ended (``invalid_at``), or it is not one.
        return said_at >= old.start
    if "day" in (old.precision, new.precision) and _same_day(old.start, new.start):
        return said_at >= old.start
    return False


def _key(fact: Fact) -> tuple[str, str, str, str]:
    # What "the same statement" means; object_key normalises, so compute it once per fact.
    return (fact.subject_id, fact.predicate, fact.object_key, fact.polarity)


def _conflicts(
    new: tuple[str, str, str, str], old: tuple[str, str, str, str], functional: bool
) -> bool:
    if old[:2] != new[:2]:
        return False
    if old[2] == new[2]:
        return old[3] != new[3]
    return functional and new[3] == "positive" and old[3] == "positive"


def _merge(target: Fact, new: Fact, **changes: Any) -> Fact | None:
    episodes = tuple(dict.fromkeys((*target.episode_ids, *new.episode_ids)))
    update: dict[str, Any] = dict(changes)
    if episodes != target.episode_ids:
        update["episode_ids"] = episodes
    if new.confidence > target.confidence:
        update["confidence"] = new.confidence
    return _copy(target, **update) if update else None


def _restated(
    target: Fact, merged: Fact | None, updates: list[Fact], notes: list[str]
) -> Resolution:
    # Nothing is inserted; the target changes only if the merge added something.
    return Resolution(
        insert=None,
        updates=[*updates, *([merged] if merged else [])],
        merged_into=target.id,
        notes=notes,
    )


def resolve(
    new: Fact,
    existing: Sequence[Fact],
    *,
    functional: bool,
    now: datetime,
    contradicts: Collection[str] = (),
    restates: Collection[str] = (),
    corrects: Collection[str] = (),
    said_at: datetime | None = None,
) -> Resolution:
    """Decide how ``new`` enters a graph that already holds ``existing``.

    Args:
        new: the fact to add (its ``valid_at`` already defaulted by the caller, if wanted).
        existing: facts it may meet: at least the same subject and predicate, plus any facts
            named in ``contradicts`` / ``restates``. Others are ignored.
        functional: whether the predicate has one current value per subject.
        now: when memlane learns this (``expired_at`` of what it closes).
        contradicts: ids of existing facts the new one makes untrue (e.g. named by an LLM).
        restates: ids of existing facts the new one repeats in other words.
        corrects: ids of existing facts the new one shows were never true (retracted).
        said_at: when the message saying ``new`` was said (default: its ``recorded_at``).

    Returns:
        A :class:`Resolution`; ``existing`` and ``new`` are not modified.
    """
    notes: list[str] = []
    said = said_at or new.recorded_at
    by_id = {f.id: f for f in existing}
    retracted: list[Fact] = []
    for fid in corrects:
        wrong = by_id.get(fid)
        if wrong is None:
            notes.append(f"corrects {fid}: not among the candidates; ignored")
        elif wrong.is_retracted:
            notes.append(f"corrects {fid}: already retracted; ignored")
        elif wrong.subject_id != new.subject_id:
            notes.append(f"corrects {fid}: a different subject; ignored")
        elif _key(wrong) == _key(new):
            notes.append(f"corrects {fid}: says the same thing; ignored")
        else:
            retracted.append(_copy(wrong, invalid_at=None, expired_at=now))
            notes.append(f"retracted {fid} (corrected)")
    gone = {f.id for f in retracted}
    live = [f for f in existing if not f.is_retracted and f.id not in gone]
    new_key = _key(new)
    keys = {f.id: _key(f) for f in live}

    # Facts named as repeats are the same statement in other words, not conflicts.
    named_repeats = [
        by_id[r]
        for r in restates
        if r in by_id
        and r not in gone
        and r not in contradicts
        and not by_id[r].is_retracted
        and by_id[r].subject_id == new.subject_id
        and by_id[r].predicate == new.predicate
        and by_id[r].polarity == new.polarity
    ]
    repeat_ids = {f.id for f in named_repeats}
    conflicts = {
        f.id: f
        for f in live
        if f.id not in repeat_ids and _conflicts(new_key, keys[f.id], functional)
    }
    for fid in contradicts:
        named = by_id.get(fid)
        if fid in gone:
            continue
        if named is None:
            notes.append(f"contradicts {fid}: not among the candidates; ignored")
        elif named.is_retracted:
            notes.append(f"contradicts {fid}: already retracted; ignored")
        elif named.subject_id != new.subject_id:
            notes.append(f"contradicts {fid}: a different subject; ignored")
        elif _key(named) == new_key:
            notes.append(f"contradicts {fid}: says the same thing; ignored")
        else:
            conflicts.setdefault(fid, named)

    start = new.start
    same = [f for f in live if keys[f.id] == new_key]
    # The same value told for a period memory knows has ended is about that period, however
    # it was worded ("when I lived in Montreal" with Montreal's dates): it overtakes nothing.
    retold = any(f.invalid_at is not None and _contains(f, start) for f in (*same, *named_repeats))
    overtaken = {
        c.id
        for c in conflicts.values()
        if not retold and c.start > start and _supersedes(new, c, said)
    }
    if overtaken and new.precision == "day":
        # A date against a time later that same day: the change happened after that time,
        # by the message that tells it.
        same_day = [conflicts[i].start for i in overtaken if conflicts[i].precision != "unknown"]
        if same_day:
            start = max(max(same_day), min(said, start.replace(hour=23, minute=59)))
            new = _copy(new, valid_at=start, start_precision="time")
    earlier = [c for c in conflicts.values() if c.start <= start or c.id in overtaken]
    later = sorted(
        (c for c in conflicts.values() if c.start > start and c.id not in overtaken),
        key=lambda f: f.start,
    )
    next_start = later[0].start if later else None

    updates: list[Fact] = list(retracted)
    for old in sorted(earlier, key=lambda f: (f.start, f.id)):
        if new.invalid_at is not None and _reaches_past(old, new.invalid_at):
            continue  # a story with its own end never closes what held after it
        if _reaches_past(old, start):
            # An observation that a later message overtakes keeps no start: it was never said.
            moved = {"valid_at": None} if old.start > start else {}
            updates.append(_copy(old, invalid_at=start, expired_at=now, **moved))
            notes.append(f"closed {old.id} at {start.isoformat()}")

    # Restatement: the same thing said within a known window (or named as a repeat).
    # A story of unknown start is known by its end: the period that reached it.
    probe = start
    if new.valid_at is None and new.invalid_at is not None:
        probe = new.invalid_at - timedelta(microseconds=1)
    containing = [f for f in (*same, *named_repeats) if _contains(f, probe)]
    if containing:
        target = max(containing, key=lambda f: (f.start, f.id))
        notes.append(f"restates {target.id}")
        end = new.invalid_at
        if end is not None and target.invalid_at is None and end > target.start:
            # The end of a period still open, told now ("I left DSV in March").
            notes.append(f"closed {target.id} at {end.isoformat()} (its end was told)")
            return Resolution(
                insert=None,
                updates=[
                    *updates,
                    _copy(_merge(target, new) or target, invalid_at=end, expired_at=now),
                ],
                merged_into=None,
                notes=notes,
            )
        return _restated(target, _merge(target, new), updates, notes)

    # The same value told for an earlier time than we knew, with nothing else in between:
    # the known period started earlier.
    reaches = new.invalid_at
    extendable = [
        f
        for f in same
        if f.start > start
        and (next_start is None or next_start >= f.start)
        and (reaches is None or reaches >= f.start)
    ]
    if extendable:
        target = min(extendable, key=lambda f: (f.start, f.id))
        notes.append(f"restates {target.id} from an earlier start {start.isoformat()}")
        return _restated(target, _merge(target, new, valid_at=start), updates, notes)

    insert = new
    if next_start is not None and (new.invalid_at is None or new.invalid_at > next_start):
        # An old story: it was true until the next known value began.
        insert = _copy(new, invalid_at=next_start, expired_at=now)
        notes.append(f"inserted closed at {next_start.isoformat()} (a later fact is current)")
    return Resolution(insert=insert, updates=updates, merged_into=None, notes=notes)
