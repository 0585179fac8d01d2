"""Extraction scoring rules, one small table each: restatements, true negations, dating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memlane.evals.sim.extraction import ExtractionTally
from memlane.evals.sim.timeline import GoldFact, Told, Turn
from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.model import SELF_ID, Fact

pytestmark = pytest.mark.unit


def day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


SESSION = 5
AT = day("2024-03-02T12:00:00")
NAMES = {"e_adrian": "Adrian", "e_oslo": "Oslo", "e_bosch": "Bosch", "e_lufthansa": "Lufthansa",
         "e_acme": "Acme", "e_paris": "Paris", "e_berlin": "Berlin", "e_rex": "Rex"}  # fmt: skip


def gold(gid: str, subject: str, predicate: str, obj: str, start: str, told_in: int,
         end: str | None = None, closed_in: int | None = None) -> GoldFact:  # fmt: skip
    return GoldFact(
        id=gid, subject=subject, predicate=predicate, object=obj, statement="s",
        valid_at=day(start), invalid_at=day(end) if end else None, told_in=told_in,
        closed_in=closed_in,
    )  # fmt: skip


GOLD = [
    gold("g1", "user", "lives_in", "Oslo", "2023-01-01", 0),
    gold("g2", "user", "works_at", "Lufthansa", "2022-01-01", 0, "2024-03-01", SESSION),
    gold("g3", "user", "works_at", "Bosch", "2024-03-01", SESSION),
    gold("g4", "user", "has_sibling", "Adrian", "2023-02-01", 1),
    gold("g5", "Adrian", "lives_in", "Berlin", "2023-02-01", 1, "2024-02-28", SESSION),
    gold("g6", "Adrian", "lives_in", "Paris", "2024-02-28", SESSION),
    gold("g7", "user", "works_at", "Acme", "2020-01-01", 0, "2021-06-01", 2),
    gold("g8", "user", "has_pet", "Rex", "2023-01-01", 9),  # told later: unknown at session 5
]


def draft(subject: str, predicate: str, obj: str, valid_at: datetime) -> FactDraft:
    return FactDraft(subject=subject, predicate=predicate, object=obj, statement="s",
                     valid_at=valid_at)  # fmt: skip


BOSCH = draft("user", "works_at", "Bosch", day("2024-03-01"))
PARIS = draft("Adrian", "lives_in", "Paris", day("2024-02-28"))


def fact(subject: str, predicate: str, obj: str, *, positive: bool = True,
         start: datetime = AT, end: datetime | None = None) -> Fact:  # fmt: skip
    return Fact(
        id=f"f-{subject}-{predicate}-{obj}-{positive}", user_id="u",
        subject_id=SELF_ID if subject == "user" else f"e_{subject.lower()}",
        predicate=predicate, object_id=f"e_{obj.lower()}", statement="s",
        polarity="positive" if positive else "negative", recorded_at=AT, valid_at=start,
        invalid_at=end, expired_at=AT if end else None,
    )  # fmt: skip


def score(text: str, drafts: tuple[FactDraft, ...], facts: list[Fact]) -> dict[str, object]:
    tally = ExtractionTally(GOLD)
    tally.add(Turn(AT, (Told("k", {}, drafts),)), text, facts, NAMES, session=SESSION)
    return tally.summary()


LEFT = "I left Lufthansa and joined Bosch yesterday."


@pytest.mark.parametrize(
    ("text", "drafts", "extra", "verdict"),
    [
        # Re-stated link, named in the turn, true since session 1: correct.
        ("My brother Adrian moved to Paris.", (PARIS,), fact("user", "has_sibling", "Adrian"),
         "restated"),
        # The same fact when the turn does not name Adrian: never a hit.
        ("My brother moved to Paris.", (PARIS,), fact("user", "has_sibling", "Adrian"),
         "spurious"),
        # A value that no longer holds at the turn is wrong, even if it was once true.
        ("Adrian moved from Berlin to Paris.", (PARIS,), fact("Adrian", "lives_in", "Berlin"),
         "spurious"),
        # True but not told yet (session 9): memory cannot know it, so not a restatement.
        ("Rex is lovely.", (), fact("user", "has_pet", "Rex"), "spurious"),
        # The true negation of what this turn ended (Bosch starts the day Lufthansa ends).
        (LEFT, (BOSCH,), fact("user", "works_at", "Lufthansa", positive=False), "ended"),
        ("Adrian moved from Berlin to Paris.", (PARIS,),
         fact("Adrian", "lives_in", "Berlin", positive=False), "ended"),
        # Asserting the ended value is wrong.
        (LEFT, (BOSCH,), fact("user", "works_at", "Lufthansa"), "spurious"),
        # A negation of something that ended sessions ago, not by this turn.
        ("I left Acme and joined Bosch yesterday.", (BOSCH,),
         fact("user", "works_at", "Acme", positive=False), "spurious"),
        # Negating a value that still holds.
        ("I left Lufthansa; Oslo is home.", (BOSCH,),
         fact("user", "lives_in", "Oslo", positive=False), "spurious"),
        # The right name under the wrong predicate.
        (LEFT, (BOSCH,), fact("user", "lives_in", "Lufthansa", positive=False), "spurious"),
        # A negation with no new value in the turn ends nothing.
        ("I left Lufthansa.", (), fact("user", "works_at", "Lufthansa", positive=False),
         "spurious"),
    ],
)  # fmt: skip
def test_precision_counts_true_restatements_and_negations(
    text: str, drafts: tuple[FactDraft, ...], extra: Fact, verdict: str
) -> None:
    found = [fact(d.subject, d.predicate, d.object or "", start=d.valid_at or AT) for d in drafts]
    out = score(text, drafts, [*found, extra])
    assert out["recall"] == (1.0 if drafts else None)
    correct = {"restated": {"restated": 1, "ended": 0}, "ended": {"restated": 0, "ended": 1},
               "spurious": {"restated": 0, "ended": 0}}[verdict]  # fmt: skip
    assert out["extra_correct"] == correct
    total = len(found) + 1
    expected = total if verdict != "spurious" else total - 1
    assert out["precision"] == round(expected / total, 3)
    assert bool(out["spurious_examples"]) == (verdict == "spurious")


OSLO_AGAIN = draft("user", "lives_in", "Oslo", AT)  # a restatement is dated by its turn


@pytest.mark.parametrize(
    ("stored", "dated_right"),
    [
        (fact("user", "lives_in", "Oslo", start=day("2023-01-01")), True),  # merged: original
        (fact("user", "lives_in", "Oslo", start=AT), True),  # new fact from the turn
        (fact("user", "lives_in", "Oslo", start=AT - timedelta(hours=3)), True),  # same day
        (fact("user", "lives_in", "Oslo", start=day("2019-05-05")), False),  # made-up start
        # The right start, but closed before the turn that says it still holds.
        (fact("user", "lives_in", "Oslo", start=day("2023-01-01"), end=day("2024-03-01")),
         False),
        (fact("user", "lives_in", "Oslo", start=AT + timedelta(days=10)), False),  # after
    ],
)  # fmt: skip
def test_a_restatement_is_dated_by_its_window(stored: Fact, dated_right: bool) -> None:
    out = score("I still live in Oslo.", (OSLO_AGAIN,), [stored])
    assert out["by_kind"]["k"]["recall"] == 1.0  # type: ignore[index]
    assert out["by_kind"]["k"]["dated_right"] == (1.0 if dated_right else 0.0)  # type: ignore[index]


@pytest.mark.parametrize(
    ("start", "dated_right"),
    [(day("2024-03-01"), True), (AT, False), (day("2023-01-01"), False)],
)
def test_a_new_value_is_dated_by_its_own_day(start: datetime, dated_right: bool) -> None:
    # "joined Bosch yesterday": no window-containment leniency for what starts at the turn.
    out = score(LEFT, (BOSCH,), [fact("user", "works_at", "Bosch", start=start)])
    assert out["by_kind"]["k"]["dated_right"] == (1.0 if dated_right else 0.0)  # type: ignore[index]
