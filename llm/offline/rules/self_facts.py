"""Offline extraction rules about the user: name, age, home, work and job title.

Changes ("I moved to", "I joined") are dated by the nearest date phrase, or the turn's day;
states ("I live in", "I'm a nurse") only by a date in their own clause. Past stories ("back
when I lived in X", "in 2012 I was working at Y") are history: ``past`` drafts that never
become the current value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from memlane.llm.offline.rules.clauses import CAP, NAME, TRIP, Ctx, Draft, article, clean, ok, rule
from memlane.llm.offline.rules.dates import find_dates
from memlane.llm.offline.rules.jobs import JOBS
from memlane.llm.offline.rules.normalise import is_word
from memlane.llm.offline.rules.places import known_place

__all__ = ["JOBS"]

_TITLE_WORDS = r"(?:[a-zA-Z\-]+ ){0,3}"
_PAST = re.compile(r"\b(?:used to|back when|when i (?:was|lived|worked)|back in)\b", re.I)


def _place_like(name: str, c: Ctx) -> bool:
    return bool(c.prompt.known_as(name) & {"lives_in", "hometown", "visited"})


def _org_like(name: str, c: Ctx) -> bool:
    return "works_at" in c.prompt.known_as(name)


_STUDY = re.compile(
    r"\b(?:masters?|master's|msc|ma|mba|phd|doctorate|bachelor'?s?|degree|diploma|course|"
    r"program(?:me)?|semester|term|student|studying|study|studies|uni|university|college|"
    r"enrolled|thesis|lectures?|classes|freshman|sophomore|grad school)\b",
    re.I,
)
_JOB = re.compile(
    r"\b(?:job|hired|shift|boss|salary|paid|pay|position|role|employer|colleagues?"
    r"|promot\w+|intern(?:ship)?|contract)\b",
    re.I,
)


def _place_of_work(org: str, m: re.Match[str], c: Ctx, statement: str, **kw: object) -> Draft:
    """``works_at`` ``org``, or ``studies_at`` when the clause (or, with no word of a job, the
    sentence) is about studying there: "I started at TUM in October for my masters"."""
    if _STUDY.search(c.clause(m)) or (_STUDY.search(c.sentence) and not _JOB.search(c.sentence)):
        return Draft("studies_at", org, f"{c.who} studies at {org}.", object_kind="org",
                     **kw)  # type: ignore[arg-type]  # fmt: skip
    return Draft("works_at", org, statement, object_kind="org", **kw)  # type: ignore[arg-type]


_DEMONYM = re.compile(
    r"^(?:\w+(?:ish|ese|ican|ean|ian)|American|German|French|Dutch|Swiss|Greek|Thai|Jewish|"
    r"Muslim|Catholic|Hindu|Buddhist|Atheist|Australian|Canadian|Brazilian|Italian|Indian|"
    r"Russian|Nigerian|Iranian|Egyptian|Colombian|Argentinian|Peruvian|Norwegian)$"
)
_NAMES_IAN = {
    "adrian",
    "brian",
    "julian",
    "damian",
    "sebastian",
    "ian",
    "vivian",
    "lilian",
    "christian",
    "fabian",
    "kilian",
    "florian",
    "maximilian",
    "marian",
    "dorian",
}


_NOT_NAMES = frozenset(
    [
        "he",
        "she",
        "it",
        "they",
        "we",
        "you",
        "who",
        "that",
        "this",
        "there",
        "here",
        "what",
        "everyone",
        "everybody",
        "everything",
        "nobody",
        "noone",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "nothing",
        "something",
        "none",
        "all",
        "nope",
        "yes",
        "yeah",
        "sorry",
        "hello",
        "hi",
        "hey",
        "thanks",
        "ok",
        "okay",
    ]
)


# -- identity --------------------------------------------------------------------------------
@rule(
    rf"\b(?:my name is|i'm called|i am called|call me|my name's)\s+(?P<n>{NAME})"
    rf"|\b(?:hi|hello|hey|hiya|greetings)\b[!,.]*\s+(?:there[!,.]*\s+)?(?:i'm|i am|this is)"
    rf"\s+(?P<n2>{NAME})\b(?!\s+(?:at|from|with|in)\b)"
    rf"|^(?P<n3>{NAME}) here\b(?=\s*(?:[,.!:;]|[-–—]|$))"
    rf"|^(?:i'm|i am) (?P<n4>{NAME})(?=[,.!]|\s+(?:and|here)\b|$)"
)
def _name(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    name = m["n"] or m["n2"] or m["n3"] or m["n4"]
    if m["n4"] and not re.match(r"\s*(?:hi|hello|hey|hiya|greetings)\b", c.message, re.I):
        return  # "I'm Emma." introduces only after a greeting ("Hi! I'm Emma.")
    if re.sub(r"['’]s$", "", name.lower()) in _NOT_NAMES:
        return  # "He's here!", "Nobody here gets it": a pronoun, not a name
    if _DEMONYM.match(name) and name.lower() not in _NAMES_IAN:
        return  # "Hi, I'm Canadian" says where from, not who
    # "my name is" / "call me", or an introduction opening the message with a greeting
    # ("Hi, I'm Emma.", "Hey! Emma here."), state a name outright; other readings are weaker
    # and never become the user's name (see the reconciler's identity rule).
    if not m["n"] and any(is_word(w) for w in name.split()):
        return  # "Hi, I'm Tired.", "Done here.": an English word, not who they are
    weak = not m["n"] and not re.match(r"\s*(?:hi|hello|hey|hiya|greetings)\b", c.message, re.I)
    yield Draft("name", name, f"The user's name is {name}.", kind="trait",
                confidence=0.6 if weak else 0.9)  # fmt: skip


@rule(r"\bi(?:'m| am) (?P<n>\d{1,3})(?: years? old)?(?=[,.;!?]|$| and\b| now\b| this\b| today\b)")
def _age(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    before = c.sentence[: m.start()]
    if re.search(r"\b(?:like|as if|as though|pretend|imagine|if|when|since)\s*$", before, re.I):
        return  # "explain it like I'm 10" is a figure of speech, not an age
    if re.search(r"\b(?:thinks?|says?|feels?|feel like|acts?|treats? me)\b(?: that)?\s*$", before,
                 re.I):  # fmt: skip
        return  # "my back thinks I'm 90": someone's view of the user, not their age
    yield Draft("age", m["n"], f"{c.who} is {m['n']} years old.", valid_at=c.date(m))


@rule(
    r"\bi (?:just |recently )?turned (?P<n>\d{1,3})\b"
    r"|\bmy (?P<n2>\d{1,3})(?:st|nd|rd|th) birthday\b"
)
def _turned(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    age = m["n"] or m["n2"]
    if m["n2"] and re.search(r"\b(?:will be|next|upcoming|coming up)\b", c.sentence, re.I):
        return  # a birthday to come is not an age yet
    yield Draft(
        "age", age, f"{c.who} is {age} years old.", valid_at=c.date(m, near=True) or c.day()
    )


@rule(r"(?:\bi(?:'m| am)? |^)turning (?P<n>\d{1,3})\b")
def _turning(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "turning 24 next sunday": the new age from the day said (not current before it); with
    no day, nothing: the old age is still the age."""
    when = c.date(m, future=True, near=True)
    if when is None or when < c.day() or c.asks(m):
        return  # no day, a past one, or "am I turning 30 on Friday?"
    age = m["n"]
    yield Draft("age", age, f"{c.who} is {age} years old.", valid_at=when)


# -- home ------------------------------------------------------------------------------------
@rule(
    rf"\b(?:i|we)(?:'ve| have)?\s+(?:just\s+|finally\s+|recently\s+|also\s+|officially\s+)?"
    rf"(?P<v>moved|relocated|made it)(?: back)?(?: (?:from|out of) (?P<f>{CAP}))?"
    rf"(?: (?:over|back|across))? to (?P<o>{CAP})"
)
def _moved(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if _PAST.search(c.clause(m)):
        return
    if m["v"].lower() == "made it" and (TRIP.search(c.message) or c.asks(m)):
        return  # "made it to Rome for the weekend" is a trip, not a home
    when = c.date(m, near=True) or c.day()
    yield Draft("lives_in", m["o"], f"{c.who} moved to {m['o']} and lives there.",
                object_kind="place", valid_at=when)  # fmt: skip
    if m["f"]:
        yield Draft("lives_in", m["f"], f"{c.who} used to live in {m['f']}.",
                    object_kind="place", invalid_at=when, past=True)  # fmt: skip


@rule(
    rf"\bmy (?:new )?(?:place|home|flat|apartment|house) in (?P<o>{CAP})"
    rf"|\bhome (?:for me |for us )?is (?:now )?(?P<o2>{CAP})"
    rf"|\bi(?:'m| am) (?:still |now |really )*(?:loving|enjoying) (?:life|living) in (?P<o3>{CAP})"
)
def _home(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    place = m["o"] or m["o2"] or m["o3"]
    moved = re.search(r"\b(?:moved|relocated)\b", c.sentence, re.I)
    if _PAST.search(c.clause(m)):
        return
    when = c.date(m, near=True) if moved else c.date(m)
    yield Draft("lives_in", place, f"{c.who} lives in {place}.", object_kind="place",
                valid_at=when)  # fmt: skip


@rule(
    rf"\bi(?:'ve| have) (?:been )?liv(?:ed|ing) in (?P<o>{CAP}) for (?P<n>\d+|a|an|one|two|"
    r"three|four|five|six|seven|eight|nine|ten) (?P<u>year|month)s?"
)
def _lived_for(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    from memlane.llm.offline.rules.dates import shift_months

    words = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
    words |= {"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
    n = int(m["n"]) if m["n"].isdigit() else words[m["n"].lower()]
    since = shift_months(c.day(), -n * (12 if m["u"].lower() == "year" else 1))
    yield Draft("lives_in", m["o"], f"{c.who} lives in {m['o']}.", object_kind="place",
                valid_at=since)  # fmt: skip


@rule(
    rf"\b(?:i|we)(?:'m| am|'re| are)? (?:now |currently |still |happily )?(?:live|living|based|"
    rf"settled|residing) (?:over )?in (?P<o>{CAP})"
)
def _live(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if _PAST.search(c.clause(m)):
        return
    yield Draft("lives_in", m["o"], f"{c.who} lives in {m['o']}.", object_kind="place",
                valid_at=c.date(m))  # fmt: skip


@rule(
    rf"\b(?:back when i|when i|i used to|i|we) (?:lived|was living|were living|live|used to live)"
    rf" in (?P<o>{CAP})"
    r"|\bi miss (?P<o2>[A-Z][\w ]*?)\b[^.!?]*\bwhen i (?:lived|was living) there"
)
def _lived_past(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    # A story about the past: the place is history, never the current home.
    place = m["o"] or m["o2"]
    if m["o"] and re.match(r"(?:i|we) live\b", m.group(0), re.I):
        return  # present tense: _live's business
    years = [h for h in find_dates(c.sentence, c.at) if re.search(r"\d{4}", h.text)]
    since = c.date(m, near=True) if years else None
    yield Draft("lives_in", place, f"{c.who} used to live in {place}.", object_kind="place",
                valid_at=since, invalid_at=c.day(), past=True)  # fmt: skip


@rule(rf"\bi (?:grew up|was born and raised|was raised) in (?P<o>{CAP})")
def _hometown(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("hometown", m["o"], f"{c.who} grew up in {m['o']}.", object_kind="place")


# -- work ------------------------------------------------------------------------------------
@rule(
    rf"\bi(?:'m| am)? (?:now |currently |still |also )*(?:work|working) (?:at|for) (?P<o>{CAP})"
    rf"|\bi(?:'m| am) (?:now |still |currently )*at (?P<o2>{CAP})"
    rf"(?=[,.;!?]|$| now\b| these days\b| same\b| as\b)"
)
def _works(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    org = m["o"] or m["o2"]
    if _PAST.search(c.clause(m)) or _place_like(org, c):
        return
    if m["o2"] and not (
        _org_like(org, c) or re.search(r"\b(?:job|work|hired|employer|office)\b", c.message, re.I)
    ):
        return  # "I'm at Starbucks" is a whereabouts unless the talk is of work
    yield _place_of_work(org, m, c, f"{c.who} works at {org}.", valid_at=c.date(m))


@rule(
    r"\b(?:i|and|then)(?:'ve| have)? (?:just |recently |finally |officially )?(?:joined|started "
    r"(?:a new job |working |my new job |a job |work )?(?:at|with|for)|got (?:a|the|my) "
    r"(?:new )?(?:[\w\-]+ )?job (?:at|with)|got (?:[\w\-]+ )?job (?:at|with)|was hired by|"
    r"got hired (?:at|by)|"
    r"(?:got|accepted|took|signed) (?:the |an |a |their )?(?:job )?offer (?:from|at|with)|"
    rf"moved to work (?:at|for)) (?P<o>{CAP})"
    rf"|\bmy first day at (?P<o2>{CAP})"
    # "I left Google to join Stripe": the new job (``_left`` ends the old one).
    r"|\bi(?:'ve| have)? (?:just |recently |finally )?(?:left|quit)\b[^.;!?]*?"
    r"\b(?:to|and (?:then )?) (?:join|joined|start at|started at|go work (?:at|for)|"
    rf"work (?:at|for)) (?P<o3>{CAP})"
)
def _joined(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    org = m["o"] or m["o2"] or m["o3"]
    if _PAST.search(c.clause(m)) or _place_like(org, c):
        return
    # An offer is a job still to start: its month is ahead ("we go in january").
    offer = "offer" in m.group(0).lower()
    when = job_start(c) or c.date(m, near=True, future=offer) or c.day()
    yield _place_of_work(org, m, c, f"{c.who} works at {org}.", valid_at=when)


@rule(
    r"\bi(?:'ve| have)? (?:just |recently |finally )?(?:left|quit|resigned from|"
    r"(?:was|got) laid off from|no longer work (?:at|for)|stopped working (?:at|for)) "
    rf"(?P<o>{CAP})"
)
def _left(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    org = m["o"]
    # "I left Seattle and moved to Oslo" leaves a home, not a job.
    if _place_like(org, c) or re.search(r"\b(?:moved|relocated)\b", c.sentence, re.I):
        return
    yield Draft("works_at", org, f"{c.who} no longer works at {org}.", object_kind="org",
                polarity="negative", valid_at=c.date(m, near=True) or c.day())  # fmt: skip


@rule(
    rf"\b(?P<w>my|(?P<n>{NAME})['’]s) (?P<adj>(?:(?:new|current|old|former|previous|first|day|"
    r"full[- ]time|part[- ]time)\s+)*)(?:job|work|position|role|internship|placement|gig) "
    rf"(?:is |was )?(?:at|with|for) (?P<o>{CAP})"
    rf"|\bi(?:'ve| have) been (?:at|with) (?P<o2>{CAP}) (?:for )?(?:\d+|a|an|one|two|three|four|"
    r"five|six|seven|eight|nine|ten|\d+\.\d+) (?:years?|months?)"
)
def _job_at(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "my new job at Bolt", "Rohan's job at Swiggy" (from "his job at swiggy"), "I've been
    at Grady 3 years": where someone works. An old job is history; leaving it ends it."""
    org = m["o"] or m["o2"]
    if _place_like(org, c) or re.search(r"\b(?:old|former|previous)\b", m["adj"] or "", re.I):
        return
    subject = "user" if not m["n"] else c.subject(m["n"])
    if m["n"] and (m["n"].lower() in _NOT_NAMES or is_word(m["n"])):
        return  # "Today's job at X", "Mom's": no one named
    who = c.who if subject == "user" else m["n"]
    before = c.sentence[: m.start()]
    left = re.search(r"\b(?:left|quit|leaving|leave|lost)\s*$", before, re.I)
    kept = re.search(r"\b(?:can't|cannot|won't|don't|wouldn't|not)\b[^.,;]*$", before, re.I)
    new = bool(re.search(r"\bnew\b", m["adj"] or "", re.I))
    if left and not kept:
        if re.search(r"\b(?:left|quit|lost)\s*$", before, re.I):
            yield Draft("works_at", org, f"{who} no longer works at {org}.", subject=subject,
                        object_kind="org", polarity="negative",
                        valid_at=c.date(m, near=True) or c.day())  # fmt: skip
        return
    when = (job_start(c) or c.date(m, near=True) or c.day()) if new else c.date(m)
    if subject == "user":
        yield _place_of_work(org, m, c, f"{who} works at {org}.", valid_at=when)
    else:
        yield Draft("works_at", org, f"{who} works at {org}.", subject=subject,
                    object_kind="org", valid_at=when)  # fmt: skip


@rule(
    rf"\b(?:back when i|when i|i used to|in (?:19|20)\d\d,? i) (?:worked|was working|work|"
    rf"was still|was) (?:at|for) (?P<o>{CAP})"
)
def _worked_past(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    org = m["o"]
    plain = re.search(r"\bwas (?:still )?at\b", m.group(0), re.I)
    if _place_like(org, c) or (plain and not _org_like(org, c)):
        return  # "when I was at X": a job only if X is known as an employer
    years = [h for h in find_dates(c.sentence, c.at) if re.search(r"\d{4}", h.text)]
    since = c.date(m, near=True) if years else None
    yield Draft("works_at", org, f"{c.who} used to work at {org}.", object_kind="org",
                valid_at=since, invalid_at=c.day(), past=True)  # fmt: skip


# Shorthand in job titles, written out as a title is stored: "backend dev", "sr eng".
_TITLE_SHORTHAND = {"dev": "developer", "eng": "engineer", "mgr": "manager", "sr": "senior",
                    "jr": "junior", "asst": "assistant", "admin": "administrator"}  # fmt: skip


def _title(raw: str | None) -> str:
    title = clean(raw)
    title = re.sub(r"\s+(?:there|here|full[- ]time|part[- ]time)$", "", title, flags=re.I)
    title = re.sub(
        r"\b(?:dev|eng|mgr|sr|jr|asst|admin)\b", lambda w: _TITLE_SHORTHAND[w.group(0).lower()],
        title, flags=re.I,
    )  # fmt: skip
    return title.strip()


_HIRED = re.compile(
    r"\b(?:got|landed|accepted|took|signed)(?: the| a| an| my)?(?: new)?(?: [\w\-]+)? (?:job|"
    r"offer|position|role|contract)\b|\b(?:job )?offer (?:from|at)\b|\bhired\b|\bnew job\b",
    re.I,
)
# "I GOT IT!!", "took it", "they said yes": a job, when the talk before it was of one (an
# interview, an offer, a position), in the previous message or a plan memory holds.
_GOT_IT = re.compile(
    r"\b(?:i )?(?:got|took|accepted|landed) it\b|\bthey (?:said yes|picked me|chose me)\b", re.I
)
_JOB_TALK = re.compile(
    r"\b(?:interview\w*|offer\w*|position|job|vacanc\w+|hiring|recruit\w*|applied|"
    r"application|salary|employer)\b",
    re.I,
)


def hired(c: Ctx) -> bool:
    """Whether the message tells of being hired: it says so, or it says "I got it" right
    after talk of a job."""
    if _HIRED.search(c.message):
        return True
    if not _GOT_IT.search(c.message):
        return False
    new = {m.text.strip() for m in c.prompt.new}
    before = [m.text for m in c.prompt.recent if m.role == "user" and m.text.strip() not in new]
    plans = [p.object for p in c.prompt.objects_of("plans")]
    return any(_JOB_TALK.search(t) for t in (*before[-2:], *plans))


_START = re.compile(
    r"\b(?:start(?:s|ing)?(?: date)?(?: is)?(?: on| in)?|from|as of|beginning)\s*$", re.I
)


@rule(_GOT_IT.pattern)
def _got_it_at(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "I GOT IT!! start 1 april" after "job interview at X" memory holds: the job is at X,
    from the start the message says."""
    if _HIRED.search(c.message) or c.opens_question(m) or not hired(c):
        return
    orgs = {
        p.object[len("job interview at ") :]
        for p in c.prompt.objects_of("plans")
        if p.object.lower().startswith("job interview at ")
    }
    if len(orgs) != 1:
        return
    org = orgs.pop()
    yield Draft("works_at", org, f"{c.who} works at {org}.", object_kind="org",
                valid_at=job_start(c) or c.day())  # fmt: skip


def job_start(c: Ctx) -> datetime | None:
    """The day a new job or role begins when the message says so ("start sept 11", "starts
    jan 8", "I got promoted! from july I am director")."""
    if not (hired(c) or re.search(r"\bpromot", c.message, re.I)):
        return None
    for hit in find_dates(c.message, c.at, future=True):
        if _START.search(c.message[: hit.start]) or re.match(r"from\b", hit.text, re.I):
            return hit.when
    return None


def _title_draft(title: str, m: re.Match[str], c: Ctx, changed: bool) -> Iterator[Draft]:
    if ok(title) and not _PAST.search(c.clause(m)):
        start = job_start(c) if changed else None
        when = start or c.date(m, near=changed) or (c.day() if changed else None)
        yield Draft("job_title", title, f"{c.who} works as {article(title)}.", valid_at=when)


_AT = (
    r"(?= at | for | in | with |[,.;!?]|$| now\b| there\b| these days\b|\s[-–—]\s"
    r"|\s+(?:on|this|last|yesterday|today|a week|\d|two|three|four|five|six|seven)\b)"
)


@rule(
    rf"\bi (?:now )?work as an? (?P<t>[a-z][a-zA-Z\- ]{{1,40}}?){_AT}"
    rf"|\bi (?:just )?got promoted to (?:an? )?(?P<t2>[a-z][a-zA-Z\- ]{{1,40}}?){_AT}"
    rf"|\bmy (?:new )?(?:job|role|title|position) is (?:now )?(?:an? )?"
    rf"(?P<t3>[a-z][a-zA-Z\- ]{{1,40}}?){_AT}"
    rf"|\b(?:they|the company|my (?:boss|manager|company)) (?:just )?(?:made|promoted) me "
    rf"(?:to )?(?:an? )?(?P<t4>{_TITLE_WORDS}(?:{JOBS}))\b"
)
def _title_said(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    changed = bool(m["t2"] or m["t4"]) or bool(re.search(r"\bnew\b", m.group(0), re.I))
    yield from _title_draft(_title(m["t"] or m["t2"] or m["t3"] or m["t4"]), m, c, changed)


_OCCUPATION = re.compile(rf"(?:\b(?:{JOBS})|(?:er|or|ist|ian|ant|ent|ive|ect|ee))$", re.I)


def _one_clause(c: Ctx, start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in c.spans)


@rule(
    r"\b(?:job|position|role|work|hired|started|joined|switched)\b[^.;!?]*?\bas an? "
    rf"(?P<t>[a-z][a-zA-Z\- ]{{1,40}}?){_AT}"
)
def _as_title(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    # "started school, what can I send her as a care package": no job, and another clause.
    if not _one_clause(c, m.start(), m.start("t")) or not _OCCUPATION.search(_title(m["t"])):
        return
    changed = bool(re.search(r"\b(?:joined|started|switched|hired|new)\b", m.group(0), re.I))
    yield from _title_draft(_title(m["t"]), m, c, changed)


@rule(
    rf"\bi(?:'m| am| became)(?: now| officially| currently| still| finally)* (?:an? )?"
    rf"(?P<t>{_TITLE_WORDS}(?:{JOBS})(?: of [a-z]+)?)s?\b(?: (?P<p>at|for|with|in) (?P<o>{CAP}))?"
)
def _title_noun(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:used to|was)\b", c.clause(m), re.I):
        return
    # "I joined X yesterday - I'm a nurse there now": the role began with the job.
    changed = bool(
        re.search(r"\b(?:new job|promoted|became|officially|joined|started at)\b", c.sentence, re.I)
        or hired(c)
    )
    yield from _title_draft(_title(m["t"]), m, c, changed)
    org = m["o"]
    in_place = m["p"] and m["p"].lower() == "in" and known_place(org or "")
    if org and not _place_like(org, c) and not in_place:  # "a nurse in Leeds": a city
        job_change = re.search(r"\bnew job\b", c.sentence, re.I) or hired(c)
        when = (job_start(c) or c.date(m, near=True) or c.day()) if job_change else c.date(m)
        yield Draft("works_at", org, f"{c.who} works at {org}.", object_kind="org",
                    valid_at=when)  # fmt: skip


@rule(
    r"(?:^|(?<=[,;:] ))(?:as )?(?:an? )?(?P<t>(?:[a-z\-]+ ){0,3}"
    rf"(?:{JOBS}))(?=\s*(?:[,.;:!?]|$))"
)
def _hired_as(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "got the offer from Tidewave, senior backend engineer, 62k": a clause that is only a
    title, in a message about being hired, names the new job."""
    if hired(c) and not re.match(r"(?:my|his|her|their|our|the)\b", m["t"], re.I):
        yield from _title_draft(_title(m["t"]), m, c, True)


@rule(
    r"\b(?:took|got|accepted|landed|started|found) (?:a|an|the|my) (?:new )?"
    rf"(?P<t>{_TITLE_WORDS}(?:{JOBS}))s? (?:job|role|position) (?:at|with) (?P<o>{CAP})"
)
def _took_job(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield from _title_draft(_title(m["t"]), m, c, True)
    yield Draft("works_at", m["o"], f"{c.who} works at {m['o']}.", object_kind="org",
                valid_at=c.date(m, near=True) or c.day())  # fmt: skip


@rule(rf"\bi(?:'m| am) (?:now |currently )?(?:a student|studying|enrolled) at (?P<o>{CAP})")
def _studies(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("studies_at", m["o"], f"{c.who} studies at {m['o']}.", object_kind="org",
                valid_at=c.date(m))  # fmt: skip
