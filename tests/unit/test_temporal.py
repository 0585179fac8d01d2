"""The temporal rules as a table: each row is a graph, a new fact, and what must come out."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

import pytest

from memlane.memory_graph.model import Fact
from memlane.memory_graph.predicates import default_registry
from memlane.memory_graph.temporal import resolve
from memlane.memory_graph.timeutil import parse_time

pytestmark = pytest.mark.unit

NOW = parse_time("2025-01-01")
RECORDED = parse_time("2024-12-01")


def day(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


def fact(
    fid: str,
    value: str,
    valid: str | None,
    invalid: str | None = None,
    *,
    subject: str = "self",
    predicate: str = "lives_in",
    polarity: str = "positive",
    expired: str | None = None,
    recorded: str | None = None,
    episodes: tuple[str, ...] = ("ep1",),
    confidence: float = 0.8,
) -> Fact:
    return Fact(
        id=fid,
        user_id="u1",
        subject_id=subject,
        predicate=predicate,
        value=value,
        statement=f"{subject} {predicate} {value}",
        polarity=polarity,  # type: ignore[arg-type]
        confidence=confidence,
        valid_at=day(valid),
        invalid_at=day(invalid),
        recorded_at=day(recorded) or RECORDED,
        expired_at=day(expired) or (NOW if invalid else None),
        episode_ids=episodes,
    )


@dataclass
class Case:
    name: str
    existing: list[Fact]
    new: Fact
    functional: bool = True
    contradicts: tuple[str, ...] = ()
    restates: tuple[str, ...] = ()
    # expected
    inserted: bool = True
    insert_invalid_at: str | None = None
    closed: dict[str, str] = field(default_factory=dict)  # id -> new invalid_at
    merged_into: str | None = None
    merged_episodes: tuple[str, ...] = ()
    merged_valid_at: str | None = None
    note: str | None = None


PARIS_2020 = fact("paris", "Paris", "2020-01-01")
BERLIN_2022 = fact("berlin", "Berlin", "2022-06-01")

CASES = [
    Case(
        "newer value closes the current one",
        [PARIS_2020],
        fact("new", "Berlin", "2022-06-01"),
        closed={"paris": "2022-06-01"},
    ),
    Case(
        "older value (out-of-order story) is inserted closed; current untouched",
        [BERLIN_2022],
        fact("new", "Paris", "2020-01-01"),
        insert_invalid_at="2022-06-01",
    ),
    Case(
        "same start time: the newly recorded one wins",
        [PARIS_2020],
        fact("new", "Lyon", "2020-01-01"),
        closed={"paris": "2020-01-01"},
    ),
    Case(
        "story in the middle of a timeline closes the earlier and ends at the later",
        [
            fact("paris", "Paris", "2018-01-01", "2022-06-01"),
            fact("berlin", "Berlin", "2022-06-01"),
        ],
        fact("new", "London", "2020-01-01"),
        insert_invalid_at="2022-06-01",
        closed={"paris": "2020-01-01"},
    ),
    Case(
        "restatement inside the current window merges episodes, keeps max confidence",
        [PARIS_2020],
        fact("new", "paris", "2023-01-01", episodes=("ep9",), confidence=0.95),
        inserted=False,
        merged_into="paris",
        merged_episodes=("ep1", "ep9"),
    ),
    Case(
        "restatement inside a closed window merges too",
        [fact("paris", "Paris", "2018-01-01", "2022-06-01"), BERLIN_2022],
        fact("new", "Paris", "2019-05-01", episodes=("ep9",)),
        inserted=False,
        merged_into="paris",
        merged_episodes=("ep1", "ep9"),
    ),
    Case(
        "same value after its window closed (moved back) is a new period",
        [fact("paris", "Paris", "2018-01-01", "2022-06-01"), BERLIN_2022],
        fact("new", "Paris", "2024-03-01"),
        closed={"berlin": "2024-03-01"},
    ),
    Case(
        "same value told earlier than known, nothing in between: period starts earlier",
        [PARIS_2020],
        fact("new", "Paris", "2019-01-01", episodes=("ep0",)),
        inserted=False,
        merged_into="paris",
        merged_episodes=("ep1", "ep0"),
        merged_valid_at="2019-01-01",
    ),
    Case(
        "negative after positive (stopped liking) closes the positive",
        [fact("sushi", "sushi", "2021-01-01", predicate="likes")],
        fact("new", "Sushi", "2023-01-01", predicate="likes", polarity="negative"),
        functional=False,
        closed={"sushi": "2023-01-01"},
    ),
    Case(
        "negative told as an older story is inserted closed at the positive's start",
        [fact("sushi", "sushi", "2023-01-01", predicate="likes")],
        fact("new", "sushi", "2021-01-01", predicate="likes", polarity="negative"),
        functional=False,
        insert_invalid_at="2023-01-01",
    ),
    Case(
        "positive after negative closes the negative",
        [fact("nosushi", "sushi", "2021-01-01", predicate="likes", polarity="negative")],
        fact("new", "sushi", "2023-01-01", predicate="likes"),
        functional=False,
        closed={"nosushi": "2023-01-01"},
    ),
    Case(
        "different subject never conflicts",
        [fact("bob", "Paris", "2020-01-01", subject="e_bob")],
        fact("new", "Berlin", "2022-01-01"),
    ),
    Case(
        "multi-valued predicate: different values coexist",
        [fact("cats", "cats", "2020-01-01", predicate="likes")],
        fact("new", "dogs", "2022-01-01", predicate="likes"),
        functional=False,
    ),
    Case(
        "already closed earlier value is left alone",
        [fact("paris", "Paris", "2018-01-01", "2020-01-01")],
        fact("new", "Berlin", "2022-01-01"),
    ),
    Case(
        "open-ended fact without valid_at counts from when it was recorded",
        [fact("paris", "Paris", None, recorded="2021-01-01")],
        fact("new", "Berlin", "2022-01-01"),
        closed={"paris": "2022-01-01"},
    ),
    Case(
        "new fact without valid_at counts from when it is recorded",
        [PARIS_2020],
        fact("new", "Berlin", None, recorded="2024-12-01"),
        closed={"paris": "2024-12-01"},
    ),
    Case(
        "contradicts across subjects is ignored with a note",
        [fact("bob", "vegan", "2020-01-01", subject="e_bob", predicate="likes")],
        fact("new", "steak", "2022-01-01", predicate="likes"),
        functional=False,
        contradicts=("bob",),
        note="different subject",
    ),
    Case(
        "contradicts on the same subject closes a multi-valued fact",
        [fact("veg", "vegetables", "2020-01-01", predicate="likes")],
        fact("new", "steak", "2022-01-01", predicate="likes"),
        functional=False,
        contradicts=("veg",),
        closed={"veg": "2022-01-01"},
    ),
    Case(
        "contradicts naming an unknown id is noted, not an error",
        [],
        fact("new", "Berlin", "2022-01-01"),
        contradicts=("f_missing",),
        note="not among the candidates",
    ),
    Case(
        "retracted facts take no part (no close, no restatement)",
        [fact("paris", "Paris", "2020-01-01", expired="2021-01-01")],
        fact("new", "Paris", "2022-01-01"),
    ),
    Case(
        "restates names a differently worded value: merged, not duplicated",
        [fact("nyc", "New York City", "2020-01-01")],
        fact("new", "NYC", "2022-01-01", episodes=("ep5",)),
        restates=("nyc",),
        inserted=False,
        merged_into="nyc",
        merged_episodes=("ep1", "ep5"),
    ),
    Case(
        "a new fact that already ended keeps its own end before the next value",
        [fact("berlin", "Berlin", "2016-01-01")],
        fact("new", "Paris", "2010-01-01", "2015-01-01"),
        insert_invalid_at="2015-01-01",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_resolve_table(case: Case) -> None:
    before = [f.model_copy(deep=True) for f in case.existing]
    new_before = case.new.model_copy(deep=True)

    res = resolve(
        case.new,
        case.existing,
        functional=case.functional,
        now=NOW,
        contradicts=case.contradicts,
        restates=case.restates,
    )

    # pure: inputs unchanged
    assert case.existing == before
    assert case.new == new_before

    if case.inserted:
        assert res.insert is not None
        assert res.merged_into is None
        assert res.insert.invalid_at == day(case.insert_invalid_at)
        if case.insert_invalid_at and case.new.invalid_at is None:
            assert res.insert.expired_at == NOW
    else:
        assert res.insert is None
        assert res.merged_into == case.merged_into

    closed = {f.id: f for f in res.updates if f.id != res.merged_into}
    assert {k: v.invalid_at for k, v in closed.items()} == {
        k: day(v) for k, v in case.closed.items()
    }
    assert all(f.expired_at == NOW for f in closed.values())
    assert sorted(res.closed_ids) == sorted(case.closed)

    if case.merged_into and case.merged_episodes:
        merged = next(f for f in res.updates if f.id == case.merged_into)
        assert merged.episode_ids == case.merged_episodes
        assert merged.is_current == case.existing[0].is_current or merged.invalid_at is not None
        if case.merged_valid_at:
            assert merged.valid_at == day(case.merged_valid_at)
    if case.note:
        assert any(case.note in n for n in res.notes), res.notes


def test_restatement_takes_max_confidence() -> None:
    res = resolve(
        fact("new", "Paris", "2023-01-01", episodes=("ep2",), confidence=0.95),
        [PARIS_2020],
        functional=True,
        now=NOW,
    )
    assert res.updates[0].confidence == 0.95
    lower = resolve(
        fact("new", "Paris", "2023-01-01", episodes=("ep2",), confidence=0.1),
        [PARIS_2020],
        functional=True,
        now=NOW,
    )
    assert lower.updates[0].confidence == PARIS_2020.confidence


def test_restating_the_same_episode_changes_nothing() -> None:
    res = resolve(fact("new", "Paris", "2023-01-01"), [PARIS_2020], functional=True, now=NOW)
    assert res.insert is None and res.merged_into == "paris" and res.updates == []


def test_sequential_application_keeps_one_current_value() -> None:
    """Applying a shuffled life story one fact at a time leaves a clean timeline."""
    story = [
        fact("berlin", "Berlin", "2022-06-01"),
        fact("paris", "Paris", "2018-01-01"),
        fact("rome", "Rome", "2024-02-01"),
        fact("lyon", "Lyon", "2020-01-01"),
    ]
    graph: dict[str, Fact] = {}
    for new in story:
        res = resolve(new, list(graph.values()), functional=True, now=NOW)
        for upd in res.updates:
            graph[upd.id] = upd
        if res.insert:
            graph[res.insert.id] = res.insert
    current = [f for f in graph.values() if f.invalid_at is None]
    assert [f.id for f in current] == ["rome"]
    windows = sorted((f.valid_at, f.invalid_at, f.id) for f in graph.values())
    assert [w[2] for w in windows] == ["paris", "lyon", "berlin", "rome"]
    for (_, end, _), (start, _, _) in itertools.pairwise(windows):
        assert end == start


def said(fid: str, predicate: str, value: str, valid: str, polarity: str = "positive") -> Fact:
    """A fact as the reconciler builds it from what was said: the registry's canonical
    predicate, with the polarity an antonym flips."""
    meaning = default_registry().resolve(predicate)
    return fact(
        fid,
        value,
        valid,
        predicate=meaning.spec.name,
        polarity=meaning.polarity(polarity),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("before", "after", "closes", "merges"),
    [
        (("dislikes", "positive"), ("likes", "positive"), True, False),  # "can't stand" -> "like"
        (("likes", "positive"), ("hates", "positive"), True, False),
        (("dislikes", "positive"), ("dislikes", "negative"), True, False),  # no longer dislikes
        (("dislikes", "positive"), ("likes", "negative"), False, True),  # the same stance
        (("hates", "positive"), ("dislikes", "positive"), False, True),
    ],
)
def test_antonyms_meet_as_opposite_polarity_of_one_predicate(
    before: tuple[str, str], after: tuple[str, str], closes: bool, merges: bool
) -> None:
    old = said("old", before[0], "sushi", "2021-01-01", before[1])
    new = said("new", after[0], "Sushi", "2023-01-01", after[1])
    res = resolve(new, [old], functional=False, now=NOW)
    assert res.closed_ids == (["old"] if closes else [])
    assert (res.merged_into == "old") == merges
    assert (res.insert is None) == merges


# -- observed is not started, corrections, told ends (issue 11) --------------------------------
def at(
    fid: str,
    value: str,
    valid: str | None,
    precision: str,
    invalid: str | None = None,
    **kw: object,
) -> Fact:
    """A fact with an explicit start precision (``unknown``: valid_at is when it was seen)."""
    return fact(fid, value, valid, invalid, **kw).model_copy(  # type: ignore[arg-type]
        update={"start_precision": precision}
    )


@dataclass
class TimedCase:
    name: str
    existing: list[Fact]
    new: Fact
    said_at: str
    current: str  # the id (or "new") left current
    closed: dict[str, str | None] = field(default_factory=dict)  # id -> invalid_at
    functional: bool = True


LISBON_SEEN = at("lisbon", "Lisbon", "2024-05-10T10:00:00", "unknown")

TIMED = [
    TimedCase(
        "undated present, then a later message with a dated start before it: the later wins",
        [LISBON_SEEN],
        at("new", "Berlin", "2024-05-09", "day"),
        said_at="2024-05-10T10:01:00",
        current="new",
        closed={"lisbon": "2024-05-09"},
    ),
    TimedCase(
        "a date against an exact time earlier that day, from a later message: the later wins",
        [at("paris", "Paris", "2024-03-05T09:00:00", "time")],
        at("new", "Lyon", "2024-03-05", "day"),
        said_at="2024-03-05T18:00:00",
        current="new",
        closed={"paris": "2024-03-05T18:00:00"},
    ),
    TimedCase(
        "an exact time against a date of the same day, from a later message: the later wins",
        [at("paris", "Paris", "2024-03-05", "day")],
        at("new", "Lyon", "2024-03-05T14:00:00", "time"),
        said_at="2024-03-05T14:05:00",
        current="new",
        closed={"paris": "2024-03-05T14:00:00"},
    ),
    TimedCase(
        "a story with its own past window never overrides an undated present",
        [LISBON_SEEN],
        at("new", "Porto", "2010-01-01", "day", "2012-01-01"),
        said_at="2024-06-01T10:00:00",
        current="lisbon",
    ),
    TimedCase(
        "a story of unknown start ('back when I lived in X', ended 2012) leaves the present",
        [LISBON_SEEN],
        at("new", "Porto", None, "unknown", "2012-01-01"),
        said_at="2024-06-01T10:00:00",
        current="lisbon",
    ),
    TimedCase(
        "an open start said later overtakes an undated observation however far back it is",
        [at("porto", "Porto", "2020-11-08T12:00:00", "unknown")],
        at("new", "Cape Town", "2018-01-01", "day"),
        said_at="2021-02-22T19:00:00",
        current="new",
        closed={"porto": "2018-01-01"},
    ),
    TimedCase(
        "a story dated long before an undated observation, told as ended, stays history",
        [at("porto", "Porto", "2020-11-08T12:00:00", "unknown")],
        at("new", "Cape Town", "2018-01-01", "day", "2021-02-22"),
        said_at="2021-02-22T19:00:00",
        current="porto",
        closed={"new": "2020-11-08T12:00:00"},
    ),
    TimedCase(
        "a known ended period told again, open, is about that period: it overtakes nothing",
        [
            fact("mtl", "Montreal", "2022-08-20", "2023-01-21"),
            at("vienna", "Vienna", "2024-08-20T10:00:00", "unknown"),
        ],
        at("new", "Montreal", "2022-08-20", "day", episodes=("ep5",)),
        said_at="2024-08-23T09:00:00",
        current="vienna",
    ),
    TimedCase(
        "a dated start earlier than a dated value is still an old story",
        [at("berlin", "Berlin", "2022-06-01", "day")],
        at("new", "Paris", "2020-01-01", "day"),
        said_at="2024-06-01T10:00:00",
        current="berlin",
    ),
]


@pytest.mark.parametrize("case", TIMED, ids=[c.name for c in TIMED])
def test_observed_is_not_started(case: TimedCase) -> None:
    res = resolve(
        case.new,
        case.existing,
        functional=case.functional,
        now=NOW,
        said_at=day(case.said_at),
    )
    graph = {f.id: f for f in case.existing}
    graph.update({f.id: f for f in res.updates})
    if res.insert is not None:
        graph[res.insert.id] = res.insert
    current = [fid for fid, f in graph.items() if f.is_current]
    assert current == [case.current]
    for fid, end in case.closed.items():
        assert graph[fid].invalid_at == day(end)
    # Every window is a window: nothing ends before it starts.
    for f in graph.values():
        assert f.valid_at is None or f.invalid_at is None or f.valid_at <= f.invalid_at


def test_an_overtaken_observation_keeps_no_invented_start() -> None:
    res = resolve(
        at("new", "Berlin", "2024-05-09", "day"),
        [LISBON_SEEN],
        functional=True,
        now=NOW,
        said_at=day("2024-05-10T10:01:00"),
    )
    (lisbon,) = res.updates
    assert lisbon.valid_at is None and lisbon.invalid_at == day("2024-05-09")
    assert not lisbon.is_retracted


def test_correction_retracts_never_ends() -> None:
    dresden = fact("dresden", "Dresden", "2024-01-01")
    res = resolve(
        fact("new", "Leipzig", "2024-01-01", episodes=("ep2",)),
        [dresden],
        functional=True,
        now=NOW,
        corrects=("dresden",),
    )
    (wrong,) = res.updates
    assert wrong.is_retracted and wrong.invalid_at is None and wrong.expired_at == NOW
    assert res.insert is not None and res.insert.is_current
    assert not wrong.valid_during(day("2024-06-01"))  # type: ignore[arg-type]


def test_correction_of_another_subject_is_ignored() -> None:
    other = fact("bob", "Dresden", "2024-01-01", subject="e_bob")
    res = resolve(
        fact("new", "Leipzig", "2024-01-01"), [other], functional=True, now=NOW, corrects=("bob",)
    )
    assert res.updates == [] and any("different subject" in n for n in res.notes)


def test_an_end_told_later_closes_the_open_period() -> None:
    dsv = fact("dsv", "DSV", "2020-01-01", predicate="works_at")
    res = resolve(
        fact("new", "DSV", None, "2023-03-31", predicate="works_at", episodes=("ep7",)),
        [dsv],
        functional=True,
        now=NOW,
    )
    (closed,) = res.updates
    assert res.insert is None and closed.invalid_at == day("2023-03-31")
    assert closed.episode_ids == ("ep1", "ep7")


def test_a_told_end_of_the_old_value_leaves_the_new_value_current() -> None:
    """'We moved to Gdańsk on 1 April; Wrocław is behind us': the new home and the old
    one's end arrive in one message; the story of the old one never closes the new."""
    wroclaw = at("wro", "Wrocław", "2022-09-04T16:00:00", "unknown")
    first = resolve(
        at("gda", "Gdańsk", "2023-04-01", "day"),
        [wroclaw],
        functional=True,
        now=NOW,
        said_at=day("2023-04-02T17:00:00"),
    )
    graph = {f.id: f for f in [wroclaw, *first.updates]}
    assert first.insert is not None
    graph[first.insert.id] = first.insert
    story = at("story", "Wrocław", None, "unknown", "2023-04-01", episodes=("ep9",))
    second = resolve(story, list(graph.values()), functional=True, now=NOW)
    assert second.insert is None and second.merged_into == "wro"
    assert "gda" not in second.closed_ids


def test_a_story_of_unknown_start_told_again_is_one_fact() -> None:
    """'I lived in Lisbon until 2012', said twice: the second telling restates the first."""
    told = fact("lisbon", "Lisbon", None, "2012-01-01")
    res = resolve(
        fact("again", "Lisbon", None, "2012-01-01", episodes=("ep2",)),
        [told],
        functional=True,
        now=NOW,
    )
    assert res.insert is None and res.merged_into == "lisbon"
