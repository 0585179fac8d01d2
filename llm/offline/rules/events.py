"""Offline extraction rules about things that happen: trips, events, plans.

A trip told in the past ("I visited Iceland on Tuesday", "I'm back from Peru") is
``visited``; a trip ahead ("I'm going to Peru on 20 March") is ``plans`` with the object
"trip to Peru" and ``valid_at`` the day it is planned for. Coming back from a trip the
existing facts show as planned dates the visit to the planned day. Events taken part in
("I went to a hackathon yesterday") are ``attended``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from memlane.llm.offline.rules.clauses import CAP, Ctx, Draft, clean, ok, rule
from memlane.llm.offline.rules.dates import strip_dates
from memlane.llm.offline.rules.places import known_place
from memlane.memory_graph.model import normalise_name

__all__: list[str] = []

_EVENT_NOUN = (
    r"(?:festival|workshop|class|concert|conference|marathon|run|race|fair|tasting|party|"
    r"wedding|meetup|meet-up|[a-z]*athon|show|exhibition|talk|seminar|retreat|course|"
    r"lesson|match|gig|tournament|competition|ceremony|reunion|gala|premiere|play|opera|"
    r"ballet|recital|lecture|summit|convention|expo|camp|trek|tour|triathlon|game night)"
)
_TRIP = re.compile(r"^trip to (.+)$", re.I)


def _visit(c: Ctx, m: re.Match[str], place: str, when: datetime | None) -> Iterator[Draft]:
    if not ok(place) or c.prompt.known_as(place) & {"works_at"}:
        return
    yield Draft("visited", place, f"{c.who} visited {place}.", object_kind="place",
                kind="event", valid_at=when)  # fmt: skip


def _planned_day(c: Ctx, place: str) -> datetime | None:
    """The day a trip to ``place`` was planned for, if the existing facts show the plan."""
    key = normalise_name(place)
    for cand in c.prompt.candidates:
        trip = _TRIP.match(cand.object)
        if (
            cand.predicate == "plans"
            and trip
            and normalise_name(trip.group(1)) == key
            and cand.valid_at
            and cand.valid_at.date() <= c.at.date()
        ):
            return cand.valid_at
    return None


@rule(
    rf"\bi (?:just |recently |finally |also )?(?:visited|toured|explored) (?P<o>{CAP})"
    rf"|\bi (?:was|were|stayed) (?:in|at) (?P<o2>{CAP})\b(?=[^.!?]*?\b(?:for (?:a|an|the|two|"
    r"three|four|five|six|several|\d+)? ?(?:few |couple of )?(?:days?|weeks?|nights?|weekend|"
    r"holidays?|vacation|trip)|on (?:holiday|vacation|a trip|business)|trip)\b)"
    rf"|\bi (?:just |recently )?(?:flew|travell?ed|went|drove|sailed) (?:to|over to) (?P<o3>{CAP})"
    rf"(?=[^.!?]*(?:trip|holiday|vacation|\b(?:yesterday|ago|last|on|this)\b))"
)
def _visited(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    place = m["o"] or m["o2"] or m["o3"]
    if re.search(r"\b(?:never|haven't|have not|want to|would love|hope)\b", c.clause(m), re.I):
        return
    yield from _visit(c, m, place, c.date(m, near=True) or _planned_day(c, place))


@rule(
    rf"\bi(?:'m| am)? (?:just |finally )?(?:got |get |now |finally )?(?:back|home) from "
    rf"(?:my trip to |a trip to |holiday in |vacation in )?(?P<o>{CAP})"
    rf"|^(?P<o2>{CAP}) was (?:incredible|amazing|wonderful|great|fantastic|beautiful|lovely|"
    r"stunning|unforgettable|so much fun|a blast)"
)
def _back_from(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    place = m["o"] or m["o2"]
    planned = _planned_day(c, place)
    if m["o2"] and planned is None:
        return  # "Lisbon was amazing" is a trip only if one was planned
    yield from _visit(c, m, place, c.date(m) or planned)


@rule(
    r"\bi (?:just |recently )?(?:went to|attended|took part in|participated in|competed in|"
    r"ran|did|completed|finished|signed up for)(?: a| an| the| my| our)(?: first| local)? "
    rf"(?P<o>(?:[a-z\-]+ ){{0,3}}?{_EVENT_NOUN})\b"
)
def _attended(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    event = clean(m["o"])
    signed = re.match(r"i (?:just |recently )?signed up", m.group(0), re.I)
    went = re.search(r"\b(?:and|then) (?:i )?(?:went|did it|ran it|took part)\b", c.sentence, re.I)
    if not ok(event) or (signed and not went):
        return  # signing up is a plan, not an event attended
    if re.search(r"\b(?:going to|will|plan|want)\b", c.clause(m), re.I):
        return
    yield Draft("attended", event, f"{c.who} went to {article_free(event)}.", kind="event",
                valid_at=c.date(m, near=True) or c.day())  # fmt: skip


def article_free(event: str) -> str:
    """ "a hackathon" for a statement."""
    return f"{'an' if event[:1].lower() in 'aeiou' else 'a'} {event}"


_GOING = r"going|flying|travell?ing|heading|off|driving|sailing|moving"


@rule(
    rf"\b(?:i|we)(?:'m| am|'re| are|'ll| will)? (?:be )?(?:{_GOING}) (?:to|over to) (?P<o>{CAP})"
    rf"|\b(?:i|we)(?:'ve| have)? (?:just )?booked (?:a |our |my )?(?:trip|flights?|holiday|"
    rf"vacation|tickets?) to (?P<o2>{CAP})"
    rf"|\b(?:i|we)(?:'m| am|'re| are)? (?:planning|hoping|going|about) to (?:visit|see|go to|fly "
    rf"to|travel to) (?P<o3>{CAP})"
    rf"|\b(?:i|we) (?:plan|want|hope|intend) to (?:visit|go to|fly to|travel to) (?P<o4>{CAP})"
    rf"|\b(?:i|we)(?:'ll| will) be (?:visiting|in|flying to|travell?ing to) (?P<o5>{CAP})"
)
def _trip_plan(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    place = m["o"] or m["o2"] or m["o3"] or m["o4"] or m["o5"]
    if not ok(place) or c.prompt.known_as(place) & {"works_at"}:
        return
    when = c.date(m, future=True, near=True)
    if m["o"] and re.search(r"\bmoving\b", m.group(0), re.I):
        # "I'm moving to Oslo next month" is a home to come, not a trip (nor a home yet).
        if when:
            yield Draft("plans", f"move to {place}", f"{c.who} plans to move to {place}.",
                        kind="event", valid_at=when)  # fmt: skip
        return
    yield Draft("plans", f"trip to {place}", f"{c.who} plans a trip to {place}.", kind="event",
                valid_at=when)  # fmt: skip


@rule(
    r"\b(?:i|we)(?:'m| am|'re| are)? (?P<v>planning|about|hoping|due|going|moving) to "
    r"(?P<o>(?!visit|see|go to|fly|travel)(?-i:[a-z])[^.;!?]+)"
    r"|\b(?:i|we) plan to (?P<o2>(?!visit|go to|fly|travel)(?-i:[a-z])[^.;!?]+)"
    r"|\bi(?:'ll| will) be (?P<o3>(?:starting|running|moving|doing|taking)[^.;!?]+)"
)
def _plans(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    when = c.date(m, future=True)
    raw = m["o"] or m["o2"] or m["o3"]
    what = strip_dates(raw).strip(" ,.;:!?'\"-")
    if m["v"] and m["v"].lower() in {"going", "moving"}:
        what = f"{'go' if m['v'].lower() == 'going' else 'move'} to {what}"
    if not ok(what) or when is None:
        return  # "going to" with no date is too vague to remember
    if re.match(r"(?:be|have|get|make|need|try|say|tell|ask|think)\b", what, re.I):
        return
    yield Draft("plans", what, f"{c.who} plans: {what}.", kind="event", valid_at=when)


@rule(
    r"\bi(?:'ve| have)? (?:have|got|'ve got) (?:an? |my |the )?(?:(?:job|second|final|first|"
    r"phone|video) )?interview\b"
)
def _interview(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "I have interview next week for operations manager, company is X": a dated job
    interview is a plan (the "I got it!" that follows days later reads as a hiring by it)."""
    when = c.date(m, future=True, near=True)
    if when is None or when < c.day() or c.opens_question(m):
        return
    org = re.search(rf"\b(?:at|with|company is|for) (?P<o>{CAP})", c.sentence[m.end() :])
    what = f"job interview at {org['o']}" if org and not known_place(org["o"]) else "job interview"
    yield Draft("plans", what, f"{c.who} has a {what}.", kind="event", valid_at=when)
