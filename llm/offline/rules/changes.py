"""Offline rules for the common ways chat says a life changed (issue 11).

Starting and leaving jobs ("handed in my notice", "my last shift at X", "two weeks into the
new job at X"), arriving in a home ("finally unpacked in X", "settled in X"), pets taken in
("we took in a tabby named Pickle"), and endings of diets and activities ("done with keto",
"stopped climbing"). Each is one general phrase family, dated by the clause's own date or the
turn's day; an ending names the value memory already holds where the message does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from memlane.llm.offline.rules.clauses import CAP, NAME, TRIP, Ctx, Draft, rule
from memlane.llm.offline.rules.dates import find_dates
from memlane.llm.offline.rules.people import _PARTNER, SPECIES
from memlane.llm.offline.rules.places import known_place
from memlane.llm.offline.rules.tastes import DIETS
from memlane.memory_graph.model import normalise_name

__all__: list[str] = []

_FUTURE = re.compile(r"\b(?:will|going to|gonna|next|tomorrow|soon|plan(?:ning)? to)\b", re.I)
_PAST_STORY = re.compile(r"\b(?:used to|back when|back in|years ago)\b", re.I)


def _current(c: Ctx, predicate: str) -> str | None:
    """The one current value memory shows for the user's ``predicate``, if exactly one."""
    values = [
        x.object
        for x in c.prompt.candidates
        if x.current
        and x.subject == "user"
        and x.predicate == predicate
        and x.polarity == "positive"
    ]
    return values[0] if len(values) == 1 else None


# -- jobs ------------------------------------------------------------------------------------
@rule(
    rf"\b(?:\w+ (?:days?|weeks?|months?) into|(?:loving|enjoying|starting|started)) "
    rf"(?:the|my) new job (?:at|with) (?P<o>{CAP})"
    rf"|\b(?:first|second) (?:day|week|shift) (?:at|of work at) (?P<o2>{CAP})"
)
def _new_job(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    org = m["o"] or m["o2"]
    if _FUTURE.search(c.clause(m)) or _PAST_STORY.search(c.clause(m)):
        return
    start = c.date(m) or (c.day() if m["o2"] else None)
    yield Draft("works_at", org, f"{c.who} works at {org}.", object_kind="org", valid_at=start)


@rule(
    r"\b(?:handed in|gave|put in|submitted) my (?:notice|resignation)"
    rf"(?: (?:at|to) (?:the )?(?P<o>{CAP}))?"
)
def _notice(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    # A notice says the job will end, not when: a plan, never the end of the job itself.
    org = m["o"] or _current(c, "works_at")
    if org:
        yield Draft(
            "plans",
            f"leave {org}",
            f"{c.who} has handed in their notice at {org}.",
            valid_at=c.day(),
        )


@rule(rf"\bmy (?:final|last) (?:shift|day) (?:at|with) (?:the )?(?P<o>{CAP}|[a-z]+)")
def _last_day(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    said = m["o"]
    known = _current(c, "works_at")
    if said[0].isupper():
        org = said
    elif known and said.casefold() in known.casefold():
        org = known
    else:
        return  # "my last shift at the bakery": which employer, memory does not know
    when = c.date(m, future=True)
    if when is None and not re.search(r"\b(?:today|tonight)\b", c.clause(m), re.I):
        return  # the end is not dated: saying nothing beats a wrong date
    yield Draft(
        "works_at", org, f"{c.who} is leaving {org}.", object_kind="org", invalid_at=when or c.day()
    )


_RESIGNING = re.compile(
    r"\b(?:resign(?:ed|ing|ation)?|quit(?:ting)?|hand(?:ed|ing) in my notice|gave (?:my )?notice|"
    r"put in my notice|leaving|laid off|made redundant|redundancy)\b",
    re.I,
)
_EMPLOYER = re.compile(rf"\b(?:from|at|leaving|quit|quitting|left) (?:the )?(?P<o>{CAP})", re.I)


@rule(r"\blast day(?: at work| of work)?(?: is| will be| was)?(?: on)?\s+")
def _last_day_dated(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "resigned today. last day aug 11", "resignation letter to DSV, last day 31 march":
    the job ends on the day said. The employer is the one the message names, else the one
    memory holds; with neither, or no date right after, nothing is said."""
    if not _RESIGNING.search(c.message):
        return
    hits = [h for h in find_dates(c.sentence, c.at, future=True) if 0 <= h.start - m.end() < 4]
    if not hits:
        return
    known = {x.object.casefold(): x.object for x in c.prompt.objects_of("works_at")}
    # Named in the sentences that resign, not a place ("... moving to lisbon after"); a
    # known employer first, then the one memory holds, then an unknown name.
    said = " ".join(s for s in re.split(r"(?<=[.!?])\s+", c.message) if _RESIGNING.search(s))
    named = [e["o"] for e in _EMPLOYER.finditer(said) if not known_place(e["o"])]
    org = (
        next((known[o.casefold()] for o in named if o.casefold() in known), None)
        or _current(c, "works_at")
        or next(iter(named), None)
    )
    if org is None or c.prompt.known_as(org) & {"lives_in", "visited"}:
        return
    yield Draft("works_at", known.get(org.casefold(), org), f"{c.who} is leaving {org}.",
                object_kind="org", invalid_at=hits[0].when)  # fmt: skip


@rule(r"\bwe(?:'ve| have)? (?:just |finally |officially )?(?:broke up|broken up|split up|split|"
      r"separated|divorced|called it off)\b")  # fmt: skip
def _we_broke_up(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "we broke up": the partner memory holds, when it holds exactly one."""
    partner = _current(c, "partner")
    if partner is None or re.search(r"\b(?:if|never|almost|nearly)\b", c.clause(m), re.I):
        return
    yield Draft("partner", partner, f"{c.who} and {partner} split up.", object_kind="person",
                polarity="negative", valid_at=c.date(m, near=True) or c.day())  # fmt: skip


@rule(r"\b(?:i|we)(?:'ve| have)? (?:just |finally |officially )?(?:moved in|moved|made the move)"
      r"(?=\s*(?:[,.;:!?]|$|today|yesterday|this|last|and\b))|^moved in\b")  # fmt: skip
def _plan_done(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Moved in.", "we finally moved!": the move memory holds as the one current plan
    ("move to Burnaby") happened, so its place is home now."""
    plans = [x.object for x in c.prompt.objects_of("plans")]
    places = {re.sub(r"^move (?:back )?to ", "", p, flags=re.I) for p in plans
              if re.match(r"move (?:back )?to ", p, re.I)}  # fmt: skip
    if len(places) != 1:
        # No plan to fulfil: "We've moved! Nottingham now" names the new home itself, when
        # the message names exactly one gazetteer place that is not the home memory holds.
        places = _new_places(c)
    if len(places) != 1 or TRIP.search(c.message):
        return
    place = next(iter(places))
    yield Draft("lives_in", place, f"{c.who} moved to {place} and lives there.",
                object_kind="place", valid_at=c.date(m, near=True) or c.day())  # fmt: skip


def _new_places(c: Ctx) -> set[str]:
    homes = {normalise_name(h.object) for h in c.prompt.objects_of("lives_in")}
    return {
        m["o"]
        for m in re.finditer(rf"(?:^|[.!?;:]\s+)(?P<o>{CAP})", c.message)
        if known_place(m["o"]) and normalise_name(m["o"]) not in homes
    }


# -- homes -----------------------------------------------------------------------------------
@rule(rf"\b(?:i|we)(?:'ve| have)? (?:just |finally |now )*(?:unpacked|settled) in (?P<o>{CAP})")
def _arrived(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if _PAST_STORY.search(c.clause(m)):
        return
    yield Draft(
        "lives_in",
        m["o"],
        f"{c.who} lives in {m['o']}.",
        object_kind="place",
        valid_at=c.date(m, near=True) or c.day(),
    )


# -- pets ------------------------------------------------------------------------------------
_COATS = r"tabby|calico|tortie|ginger|tuxedo|siamese|labrador|lab|beagle|terrier|collie|greyhound"


@rule(
    rf"\b(?:we|i)(?:'ve| have)? (?:just |finally )?(?:took in|taken in|rescued|adopted|got) "
    rf"(?:a|an|our|my)? ?(?:(?:little|new|rescue|old|young|sweet|tiny) )*"
    rf"(?P<s>{_COATS}|{SPECIES})\b(?: (?:cat|dog|kitten|puppy))?,? (?:named|called) (?P<n>{NAME})"
)
def _took_in(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    name = m["n"]
    yield Draft(
        "has_pet",
        name,
        f"{c.who} has a {m['s'].lower()} named {name}.",
        object_kind="pet",
        valid_at=c.date(m, near=True) or c.day(),
    )


# -- endings ---------------------------------------------------------------------------------
@rule(
    rf"\b(?:i'?m |i am |we'?re )?(?:done with|finished with|off|over) (?P<d>{DIETS})\b"
    rf"|\b(?P<d2>{DIETS}) is (?:finished|finish|over|done) for me\b"
)
def _diet_over(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    diet = (m["d"] or m["d2"]).lower()
    yield Draft(
        "diet",
        diet,
        f"{c.who} is no longer on {diet}.",
        polarity="negative",
        valid_at=c.date(m, near=True) or c.day(),
    )


@rule(
    r"\bi(?:'ve| have)? (?:just |finally |basically )?(?:stopped|quit|gave up|given up) "
    r"(?P<a>[a-z]+ing)\b(?: (?P<o>(?!(?:and|but|so|for|since|because|about|two|three|a|an|the|"
    r"last|this|every|at|in|on|when|after|before|lol|now)\b)[a-z]+)\b)?"
)
def _activity_over(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    activity = m["a"].lower()
    if activity in {"working", "being", "going", "doing", "trying", "talking", "thinking"}:
        return  # "stopped working at X" is a job; the others are not activities
    if m["o"]:
        activity = f"{activity} {m['o'].lower()}"  # "stopped drinking alcohol"
    yield Draft(
        "hobby",
        activity,
        f"{c.who} no longer does {activity}.",
        polarity="negative",
        kind="preference",
        valid_at=c.date(m, near=True) or c.day(),
    )


@rule(
    r"\b(?:not going back to|never going back to|done with|finished with|gave up|given up|"
    r"giving up|quit|quitting|stopped|over) (?P<o>[a-z][a-z\- ]{1,30}?)(?=[,.;:!?]|$|\s+(?:and|"
    r"but|for|because|after|since|now|anymore|any more|lol)\b)"
)
def _held_over(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "not going back to bouldering", "done with pottery": an ending of a hobby or a like
    memory holds now (nothing is read from an ending of what it does not hold)."""
    said = normalise_name(m["o"])
    if c.opens_question(m) or re.search(r"\b(?:if|might|maybe|thinking)\b", c.clause(m), re.I):
        return
    for cand in c.prompt.objects_of("hobby", "likes"):
        if normalise_name(cand.object) == said:
            yield Draft(cand.predicate, cand.object, f"{c.who} no longer does {cand.object}.",
                        polarity="negative", kind="preference",
                        valid_at=c.date(m, near=True) or c.day())  # fmt: skip
            return


# -- who a pronoun's name belongs to ---------------------------------------------------------
_MY_ROLE = re.compile(
    rf"\b(?:my|our) (?:new |little |baby |rescue |sweet )?(?P<r>{_PARTNER}|{SPECIES}|{_COATS})\b"
    rf"|\b(?:got|adopted|took in|rescued|have) (?:a|an) (?:new |little |rescue |sweet )?"
    rf"(?P<p>{SPECIES}|{_COATS})\b",
    re.I,
)


@rule(rf"\b(?:his|her|their) name(?: is|'s) (?P<n>{NAME})")
def _pronoun_named(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "we got a kitten! her name is Mochi": the name belongs to the one thing of the user
    the message names before it (a partner or a pet); anyone else's, nothing is said."""
    before = c.message[: c.message.find(m.group(0))] if m.group(0) in c.message else ""
    roles = list(_MY_ROLE.finditer(before))
    if len(roles) != 1:
        return  # no one, or several who could be meant
    role = (roles[0]["r"] or roles[0]["p"]).lower()
    name = m["n"]
    if re.fullmatch(_PARTNER, role):
        yield Draft("partner", name, f"{c.who}'s {role} is {name}.", object_kind="person")
    else:
        yield Draft(
            "has_pet",
            name,
            f"{c.who} has a {role} named {name}.",
            object_kind="pet",
            valid_at=c.date(m, near=True),
        )


# -- a pet that died -------------------------------------------------------------------------
@rule(
    rf"\b(?P<n>{NAME}) (?:has |had )?(?:passed away|passed|died|was put down|had to be put down|"
    r"crossed the rainbow bridge)\b"
)
def _pet_died(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Tucker passed last night": a pet the memory holds is no longer the user's."""
    name = m["n"]
    pets = {x.object.casefold() for x in c.prompt.objects_of("has_pet")}
    if name.casefold() not in pets:
        return  # only a pet memory knows: a name alone could be anyone's
    yield Draft(
        "has_pet",
        name,
        f"{c.who}'s pet {name} died.",
        object_kind="pet",
        polarity="negative",
        valid_at=c.date(m, near=True) or c.day(),
    )
