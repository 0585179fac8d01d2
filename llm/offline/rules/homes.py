"""Offline extraction rules for where someone lives, said through their home.

Chat rarely says "I live in X". It says what the home is and where: "my apt in midtown",
"his place is in Decatur", "we rent a flat in Oliwa", "found an apartment in Broken Arrow",
"backend dev here in São Paulo", "shes in Houston". The owner of the home (my / our, a
name's, or a "his" / "her" already resolved to a name by
:func:`~memlane.llm.offline.rules.mentions.resolve_pronouns`) is the subject; a home got or
moved into is a change dated by the nearest date, one merely had is a state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from memlane.llm.offline.rules.clauses import CAP, NAME, TRIP, Ctx, Draft, rule
from memlane.llm.offline.rules.dates import find_dates
from memlane.llm.offline.rules.jobs import JOBS
from memlane.llm.offline.rules.people import _SUBJ, _person, _someone, _who
from memlane.llm.offline.rules.places import district_of, known_place
from memlane.memory_graph.model import normalise_name

__all__ = ["HOMES"]

HOMES = (
    r"place|home|flat|apartment|apt|house|dorm|room|unit|condo|townhouse|studio|"
    r"one-bedroom|two-bedroom|bungalow|cottage"
)
_ADJ = (
    r"(?:(?:new|own|little|tiny|small|big|first|current|rented|lovely|cute|"
    r"\d+[- ]?bed(?:room)?)\s+)*"
)
_TRIP = TRIP
_OLD = re.compile(r"\b(?:old|former|previous|last|used to|back when|childhood)\b", re.I)


def _owner(c: Ctx, word: str, name: str | None) -> str | None:
    if word.lower() in ("my", "our"):
        return "user"
    return c.subject(name) if name else None


def _cities(c: Ctx) -> list[str]:
    """The gazetteer cities the message names after "in" or "to"."""
    return [
        m["o"]
        for m in re.finditer(rf"\b(?:in|to)\s+(?P<o>{CAP})", c.message)
        if known_place(m["o"])
    ]


def _home_city(c: Ctx) -> str | None:
    """The city of the user's current home, as memory holds it ("Gdańsk" of "Wrzeszcz,
    Gdańsk"), when the gazetteer knows it."""
    for cand in c.prompt.objects_of("lives_in"):
        city = cand.object.rsplit(",", 1)[-1].strip()
        if known_place(city):
            return city
    return None


def qualified(c: Ctx, place: str, subject: str = "user", *, changed: bool = False) -> str:
    """``place``, or "Arroios, Lisbon" when it is a district of a city: one the gazetteer
    does not know (a neighbourhood, most likely), or one it puts inside a city, while the
    message names that city. Without a city in the message, a district the gazetteer does
    not know in a user's home that did not move is in the city memory has as their home
    ("the club here in Corstorphine" while living in Edinburgh)."""
    if "," in place:
        return place
    said = re.search(rf"{re.escape(place)},\s+(?P<o>{CAP})", c.message)
    if said and known_place(said["o"]) and not known_place(place):
        return f"{place}, {said['o']}"  # "our flat in Nørrebro, Copenhagen"
    cities = [x for x in _cities(c) if x.casefold() != place.casefold()]
    if not known_place(place):
        city = cities[0] if cities else None
        if city is None and subject == "user" and not changed:
            city = _home_city(c)
        return f"{place}, {city}" if city and city.casefold() != place.casefold() else place
    city = next((x for x in cities if district_of(place, x)), None)
    return f"{place}, {city}" if city else place


def _lives(c: Ctx, m: re.Match[str], subject: str, place: str, *, changed: bool) -> Draft:
    who = c.who if subject == "user" else subject
    place = qualified(c, place, subject, changed=changed)
    when = (c.date(m, near=True) or c.day()) if changed else c.date(m)
    return Draft("lives_in", place, f"{who} lives in {place}.", subject=subject,
                 object_kind="place", valid_at=when)  # fmt: skip


@rule(
    rf"\b(?P<w>my|our|(?P<n>{NAME})['’]s) {_ADJ}(?:{HOMES})(?: is| was)?"
    rf"(?: (?:now|still|here|right|just|down|up|over|out))* (?:in|near) (?P<o>{CAP})"
)
def _home_in(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "my apt in Midtown", "Darnell's place is in Decatur", "our new flat in Oliwa"."""
    subject = _owner(c, m["w"], m["n"])
    if subject is None or _OLD.search(c.clause(m)) or re.search(r"\bwas\b", m.group(0)):
        return
    if m["n"] and subject != "user" and (not _person(m["n"]) or known_place(m["n"])):
        return  # "Berlin's flats in Mitte": not a person's home
    # "our new flat in Oliwa", "moved into our flat in Nørrebro": a home one moved into.
    before = c.sentence[c.span(m)[0] : m.start()]
    changed = bool(re.search(r"\bnew\b", m.group(0), re.I)) or bool(
        re.search(r"\b(?:moved|moving) in(?:to)?\s*$", before, re.I)
    )
    yield _lives(c, m, subject, m["o"], changed=changed)


@rule(
    rf"(?:\b(?P<me>i|we)|{_SUBJ})(?:'ve| have| has|'re| are| is)? (?:just |finally |now |also |"
    r"already )?(?P<v>rent|rents|rented|renting|bought|found|got|share|shares|signed for|"
    r"moved into|closed on|own|owns) (?:a |an |the |our |my |his |her |their )?"
    rf"(?:[\w\-]+ ){{0,3}}?(?:{HOMES}) (?:here )?(?:in|near) (?P<o>{CAP})"
)
def _got_home(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "we rent a flat in Oliwa", "Kayla found an apartment in Broken Arrow, moving june 1"."""
    clause = c.clause(m)
    if _OLD.search(clause) or re.search(r"\b(?:want|looking|hope|thinking|if)\b", clause, re.I):
        return
    subject = "user" if m["me"] else c.subject(_someone(m, c))
    if subject == "user" and not m["me"] and _someone(m, c) is None:
        return
    changed = m["v"].lower() not in ("rent", "rents", "renting", "share", "shares", "own", "owns")
    yield _lives(c, m, subject, m["o"], changed=changed)


@rule(rf"(?:^|(?<=[,;:] ))(?:an? |the )?{_ADJ}(?:{HOMES}) (?:here )?(?:in|near) (?P<o>{CAP})")
def _bare_home(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "dorm in Garching, room is tiny", "apartment in South End": a clause that is only a
    home and its place is the user's new home."""
    if _TRIP.search(c.message) or _OLD.search(c.clause(m)):
        return
    yield _lives(c, m, "user", m["o"], changed=True)


@rule(rf"\bhere in (?P<o>{CAP})")
def _here_in(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "I'm a backend dev at Nubank here in São Paulo": the user lives there."""
    if _TRIP.search(c.message) or re.search(r"\b(?:visit|trip|holiday)\b", c.sentence, re.I):
        return
    if c.asks(m):
        return  # "can you recommend a restaurant here in Paris?"
    yield _lives(c, m, "user", m["o"], changed=False)


@rule(
    rf"{_SUBJ}(?: (?:now|still|currently|also))* (?:is|'s) (?:(?:now|still|currently|back) )?"
    rf"(?:(?:over|down|up|out|back) )?in (?P<o>{CAP})"
)
def _someone_is_in(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Tamara is in Houston" (from "shes in houston"): where a third party lives. Only a
    known place, and never a trip: "she's in Paris for work" is a whereabouts."""
    name = _someone(m, c)
    place = m["o"]
    if name is None or _TRIP.search(c.sentence):
        return
    if not (known_place(place) or c.prompt.known_as(place) & {"lives_in", "hometown"}):
        return
    yield _lives(c, m, c.subject(name), place, changed=False)


@rule(
    rf"(?:\b(?P<me>i)(?:'m| am)|{_SUBJ} (?:is|works as))(?: (?:now|currently|still|also))* "
    rf"(?:an? |the )?(?:[\w\-]+ ){{0,3}}?(?:{JOBS})s?\b(?P<rest>[^,.;!?]{{0,60}})"
)
def _works_in_city(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "I am shift manager in DSV warehouse in Wrocław", "Rafael is dentist in Curitiba":
    where someone works as a job is, unless the message is about a trip, where they live."""
    places = [p["o"] for p in re.finditer(rf"\bin (?P<o>{CAP})", m["rest"]) if known_place(p["o"])]
    if not places or _TRIP.search(c.sentence[m.start() :]) or _OLD.search(c.clause(m)):
        return
    if c.asks(m):
        return
    place = places[0]
    if re.search(r"\b(?:was|used to|no longer|not)\b", c.clause(m), re.I):
        return
    if m["me"]:
        yield _lives(c, m, "user", place, changed=False)
        return
    name = _someone(m, c)
    if name is not None:
        yield _lives(c, m, c.subject(name), place, changed=False)


# "Possession is April 1", "we get the keys on the 3rd", "moving in june 1": the day a home
# got is moved into.
_MOVE_DAY = re.compile(
    r"\b(?:possession|keys?|move[- ]in|moving(?: in)?|we move|closing|completion)\b", re.I
)


@rule(
    r"\b(?:offer on|bought|buying|closed on|closing on|signed (?:the )?(?:lease|contract) "
    r"(?:on|for)|got the keys (?:to|for)) (?:a |an |the |our |my )?(?:[\w\-]+ ){0,2}?"
    rf"(?:{HOMES}) (?:here )?(?:in|near) (?P<o>{CAP})"
)
def _home_to_come(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Our offer on the townhouse in Burnaby was accepted!! Possession is April 1": a home
    got with a day still to come is a move planned for that day ("Moved in." later fulfils
    it); one with no day to come is left to the rules of homes had."""
    if c.opens_question(m) or re.search(r"\b(?:if|might|maybe|thinking|want|hope)\b",
                                         c.clause(m), re.I):  # fmt: skip
        return
    day = next(
        (
            h.when
            for h in find_dates(c.message, c.at, future=True)
            if h.when > c.day() and _MOVE_DAY.search(c.message[max(0, h.start - 40) : h.start])
        ),
        None,
    )
    if day is None:
        return
    place = m["o"]
    yield Draft("plans", f"move to {place}", f"{c.who} plans to move to {place}.", kind="event",
                valid_at=day)  # fmt: skip


@rule(
    rf"{_SUBJ}(?: is| has been)?(?: (?:now|officially|finally|also))* (?:our|my) "
    r"(?:new )?(?:neighbou?r|next[- ]door neighbou?r)\b"
)
def _neighbour(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Carol is officially our neighbour as of today": she lives where the user does, from
    the day said when the sentence dates it."""
    name = _named(m, c)
    home = next((h.object for h in c.prompt.objects_of("lives_in")), None)
    if name is None or home is None or c.opens_question(m):
        return
    when = c.date(m, near=True)
    yield Draft("lives_in", home, f"{name} lives in {home}.", subject=c.subject(name),
                object_kind="place", valid_at=when)  # fmt: skip


def _named(m: re.Match[str], c: Ctx) -> str | None:
    """A person the match names or its role can only mean (a neighbour, a visitor is one
    whether or not memory knows them yet), never the user or a place."""
    name, role = _who(m, c)
    if not name or c.subject(name) == "user" or not _person(name):
        return None
    if known_place(name) and not (role or normalise_name(name) in c.prompt.people()):
        return None  # "Paris is coming ...": a city opening the sentence, unless a person
    return name


@rule(
    rf"{_SUBJ}(?: is| was)? (?:coming|came|flying|flew|driving|drove)(?: (?:down|up|over|in))? "
    rf"from (?P<o>{CAP})\b[^.!?]*\b(?:to stay|to visit|to see|to help|for)\b"
)
def _visitor(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Carol is coming down from Kelowna to stay with us": a visitor comes from home."""
    name = _named(m, c)
    if name is None or not known_place(m["o"]) or c.opens_question(m):
        return
    yield Draft("lives_in", m["o"], f"{name} lives in {m['o']}.", subject=c.subject(name),
                object_kind="place")  # fmt: skip
