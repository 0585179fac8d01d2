"""The simulated user: determinism, timeline invariants, rendering, and probe expectations."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from memlane.evals.sim.generate import FUNCTIONAL, generate_timeline
from memlane.evals.sim.probes import UNKNOWN, Probe, checkpoints, is_correct, make_probes
from memlane.evals.sim.render import render_session
from memlane.evals.sim.timeline import SELF, GoldFact, Person, Session, Timeline, Told, Turn
from memlane.memory_graph.model import normalise_name

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    return generate_timeline(seed=7, sessions=200)


def _texts(tl: Timeline) -> list[str]:
    return [t.user for s in tl.sessions for t in render_session(tl, s)]


def test_same_seed_same_timeline_and_words(timeline: Timeline) -> None:
    again = generate_timeline(seed=7, sessions=200)
    assert again.gold == timeline.gold
    assert _texts(again) == _texts(timeline)
    other = generate_timeline(seed=8, sessions=200)
    assert _texts(other) != _texts(timeline)


def test_a_shorter_run_is_a_prefix_of_the_longer_one() -> None:
    short, long = generate_timeline(seed=3, sessions=30), generate_timeline(seed=3, sessions=60)
    assert _texts(short) == _texts(long)[: len(_texts(short))]


def test_the_life_is_rich_enough_to_test_memory(timeline: Timeline) -> None:
    kinds = {t.kind for s in timeline.sessions for turn in s.turns for t in turn.told}
    for wanted in ("move", "diet", "like", "unlike", "pet", "hobby", "trip", "meet",
                   "other_move", "old_home", "story_home", "chitchat"):  # fmt: skip
        assert wanted in kinds, wanted
    assert any(s.chitchat for s in timeline.sessions)
    span = timeline.sessions[-1].started_at - timeline.sessions[0].started_at
    assert timedelta(days=365 * 2) < span < timedelta(days=365 * 6)
    moves = timeline.windows(SELF, "lives_in", 200)
    assert len(moves) >= 4
    assert any(f.precision == "year" for f in moves), "an out-of-order story of an old home"


@pytest.mark.parametrize("sessions", [1, 20, 57, 200])
def test_functional_values_never_overlap(timeline: Timeline, sessions: int) -> None:
    by_key: dict[tuple[str, str], list[GoldFact]] = defaultdict(list)
    for f in timeline.known_after(sessions):
        if f.predicate in FUNCTIONAL:
            by_key[(f.subject, f.predicate)].append(f)
    assert by_key
    for key, facts in by_key.items():
        facts.sort(key=lambda f: f.valid_at)
        assert sum(f.invalid_at is None for f in facts) <= 1, key
        for a, b in itertools.pairwise(facts):
            assert a.invalid_at is not None and a.invalid_at <= b.valid_at, (key, a, b)


def test_preferences_have_one_current_stance(timeline: Timeline) -> None:
    items = {f.object for f in timeline.gold if f.predicate == "likes"}
    for item in items:
        live = [f for f in timeline.windows(SELF, "likes", 200, item) if f.invalid_at is None]
        assert len(live) == 1, item


def test_every_gold_fact_was_said_in_its_session(timeline: Timeline) -> None:
    for f in timeline.gold:
        assert f.invalid_at is None or f.valid_at < f.invalid_at
        assert f.closed_in is None or f.closed_in >= f.told_in
        said = [d for turn in timeline.sessions[f.told_in].turns for d in turn.drafts]
        assert any(
            d.predicate == f.predicate
            and normalise_name(d.object or "") == f.object_key
            and d.subject == f.subject
            for d in said
        ), f


def test_dated_drafts_fall_after_the_previous_session(timeline: Timeline) -> None:
    # The user tells what happened since last time; a date phrase never reaches further back.
    for prev, session in itertools.pairwise(timeline.sessions):
        for turn in session.turns:
            for told in turn.told:
                if told.slots.get("when_style", "none") in ("none", "today"):
                    continue
                for d in told.drafts:
                    assert d.valid_at is not None
                    assert d.valid_at.date() > prev.started_at.date(), (told, d)


def test_rendering_says_the_values_and_dates() -> None:
    tl = generate_timeline(seed=11, sessions=120)
    for session in tl.sessions:
        for turn, text in zip(session.turns, render_session(tl, session), strict=True):
            assert text.user.strip()
            for told in turn.told:
                for d in told.drafts:
                    if d.predicate != "plans":
                        assert d.object is not None and d.object.lower() in text.user.lower()
                if told.slots.get("when_style") == "yesterday":
                    assert "yesterday" in text.user


# -- probes over a hand-made timeline -----------------------------------------------------------
def _at(day: int) -> datetime:
    return datetime(2023, 1, 1, 18, tzinfo=UTC) + timedelta(days=day)


def _fact(
    fid: str, subject: str, predicate: str, obj: str, start: int, told: int, **kw
) -> GoldFact:  # type: ignore[no-untyped-def]
    return GoldFact(
        id=fid, subject=subject, predicate=predicate, object=obj, statement=f"{subject} {obj}",
        valid_at=_at(start), told_in=told, **kw,
    )  # fmt: skip


@pytest.fixture
def small() -> Timeline:
    sessions = [
        Session(i, f"s{i}", _at(day), (Turn(_at(day), (Told("chitchat", {"text": "hi"}),)),))
        for i, day in enumerate((0, 40, 80, 120))
    ]
    gold = [
        _fact("g1", SELF, "lives_in", "Lisbon", 0, 0, invalid_at=_at(40), closed_in=1),
        _fact("g2", SELF, "lives_in", "Oslo", 40, 1, precision="exact"),
        _fact("g3", SELF, "lives_in", "Porto", -800, 2, invalid_at=_at(0), closed_in=2,
              precision="year"),
        _fact("g4", SELF, "likes", "sushi", 0, 0, kind="preference", invalid_at=_at(80),
              closed_in=2),
        _fact("g5", SELF, "likes", "sushi", 80, 2, kind="preference", polarity="negative"),
        _fact("g6", SELF, "has_pet", "Miso", 40, 1, precision="exact"),
        _fact("g7", SELF, "has_sibling", "Anna", 0, 0),
        _fact("g8", "Anna", "lives_in", "Madrid", 0, 0, invalid_at=_at(120), closed_in=3),
        _fact("g9", "Anna", "lives_in", "Rome", 120, 3),
    ]  # fmt: skip
    return Timeline(
        seed=0, user_id="u", user_name="Kim", sessions=sessions, gold=gold,
        people=[Person("Anna", "sister", "has_sibling", 0)], functional=FUNCTIONAL,
    )  # fmt: skip


def _by_type(probes: list[Probe], type_: str) -> list[Probe]:
    return [p for p in probes if p.type == type_]


def test_probe_expectations_follow_what_was_said(small: Timeline) -> None:
    after_two = make_probes(small, 2)
    current = {p.predicate: p.expected for p in _by_type(after_two, "current")}
    assert current == {"lives_in": "Oslo"}
    abstain = {p.predicate: p.expected for p in _by_type(after_two, "abstain")}
    assert abstain["partner"] == UNKNOWN and abstain["diet"] == UNKNOWN
    assert [p.expected for p in _by_type(after_two, "history")] == [["Lisbon", "Oslo"]]
    (hop,) = [p for p in _by_type(after_two, "multi_hop") if p.predicate == "lives_in"]
    assert (hop.via, hop.expected, hop.question) == (
        "has_sibling", "Madrid", "Which city does my sister live in?",
    )  # fmt: skip
    (pref,) = _by_type(after_two, "preference")
    assert pref.expected == "yes"  # the change of heart is told in session 3, not yet
    (when,) = [p for p in _by_type(after_two, "when") if p.predicate == "lives_in"]
    assert (when.object, when.expected) == ("Oslo", _at(40).date().isoformat())

    at_end = make_probes(small, 4)
    assert [p.expected for p in _by_type(at_end, "history")] == [["Porto", "Lisbon", "Oslo"]]
    assert {p.expected for p in _by_type(at_end, "preference")} == {"no"}
    hop_end = [p for p in _by_type(at_end, "multi_hop") if p.predicate == "lives_in"]
    assert [p.expected for p in hop_end] == ["Rome"]
    assert [p.expected for p in _by_type(at_end, "multi")] == [["Miso"]]
    for p in _by_type(at_end, "as_of"):
        assert p.as_of is not None
        truth = [
            f for f in small.known_after(4)
            if f.predicate == p.predicate and f.subject == SELF and f.valid_during(p.as_of)
        ]  # fmt: skip
        assert [f.object for f in truth] == [p.expected]
        # Far from any boundary.
        assert all(abs(p.as_of - b) > timedelta(days=9) for f in truth for b in (f.valid_at,))


def test_checkpoints_and_scoring() -> None:
    assert checkpoints(200, 20)[-1] == 200 and len(checkpoints(200, 20)) == 10
    assert checkpoints(45, 20) == [20, 40, 45]
    history = Probe(
        id="p", type="history", read="history", checkpoint=1, asked_at=_at(0), question="?",
        predicate="lives_in", expected=["Lisbon", "Oslo"],
    )  # fmt: skip
    assert is_correct(history, ["lisbon", "OSLO"])
    assert not is_correct(history, ["Oslo", "Lisbon"])
    multi = history.model_copy(update={"type": "multi", "read": "set"})
    assert is_correct(multi, ["Oslo", "Lisbon"])
    value = history.model_copy(update={"type": "current", "read": "value", "expected": "Oslo"})
    assert is_correct(value, "the oslo") and not is_correct(value, ["Oslo"])
