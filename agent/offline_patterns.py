"""The offline model's extraction: regular patterns for common personal facts.

Input is the extraction prompt itself (``prompts.extract_memory``), parsed back into its
sections: the offline model reads exactly what a real model reads. Output is a dict shaped
like ``ExtractionOutput``. It is deterministic and deliberately modest: it recognises the
everyday ways people say where they live and work, who their partner, children and pets are,
what they eat, like, dislike and do, and what they plan, with dates resolved against the
turn time; and it links a new fact to the existing facts it restates or contradicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agent.offline_dates import find_date, shift_months, strip_dates
from memory_graph.model import normalise_name

__all__ = ["Candidate", "ParsedPrompt", "extract", "parse_extraction_prompt"]

# -- the prompt, read back -------------------------------------------------------------------

_LINE = re.compile(r"^(?:\[(?P<at>[^\]]+)\]\s+)?(?P<role>user|assistant|system):\s?(?P<text>.*)$")
_SECTIONS = ("TURN TIME:", "USER:", "EXISTING FACTS", "RECENT MESSAGES:", "NEW MESSAGES:")


@dataclass(frozen=True)
class Candidate:
    """An existing fact as the prompt shows it."""

    short_id: str
    subject: str
    predicate: str
    object: str
    polarity: str
    valid_at: datetime | None
    current: bool


@dataclass
class Message:
    role: str
    text: str
    at: datetime


@dataclass
class ParsedPrompt:
    """The sections of an extraction prompt."""

    turn_time: datetime
    user_name: str | None
    functional: set[str]
    candidates: list[Candidate]
    new: list[Message]


def _time(raw: str | None, default: datetime) -> datetime:
    if not raw or raw.strip() in {"?", "None"}:
        return default
    try:
        dt = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return default
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _section(text: str, head: str) -> list[str]:
    start = text.find(head)
    if start < 0:
        return []
    body = text[start:].split("\n", 1)
    rest = body[1] if len(body) > 1 else ""
    if head.endswith(":") and head in ("TURN TIME:", "USER:"):
        return [body[0][len(head) :].strip()]
    ends = [rest.find(h) for h in _SECTIONS if rest.find(h) >= 0]
    return rest[: min(ends)].splitlines() if ends else rest.splitlines()


def _messages(lines: list[str], default: datetime) -> list[Message]:
    out: list[Message] = []
    for line in lines:
        m = _LINE.match(line)
        if m:
            out.append(Message(m["role"], m["text"], _time(m["at"], default)))
        elif out and line.strip():
            out[-1].text += "\n" + line
    return out


def parse_extraction_prompt(system: str, user: str) -> ParsedPrompt:
    """Read the extraction prompt's sections back (see ``prompts.extract_memory``)."""
    now = _time((_section(user, "TURN TIME:") or [""])[0], datetime.now(UTC))
    name = (_section(user, "USER:") or [""])[0]
    functional = set(re.findall(r"^([a-z][a-z0-9_]*)\*:", system, re.M))
    candidates = []
    for line in _section(user, "EXISTING FACTS"):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 5 or not re.match(r"^F\d+$", parts[0]):
            continue
        short_id, subject, predicate, obj, window = parts
        polarity = "negative" if predicate.startswith("NOT ") else "positive"
        start, _, end = window.partition("..")
        candidates.append(
            Candidate(
                short_id,
                subject,
                predicate.removeprefix("NOT "),
                obj,
                polarity,
                None if start == "?" else _time(start, now),
                end == "now",
            )
        )
    return ParsedPrompt(
        turn_time=now,
        user_name=None if not name or name.startswith("(") else name,
        functional=functional,
        candidates=candidates,
        new=_messages(_section(user, "NEW MESSAGES:"), now),
    )


# -- building blocks -------------------------------------------------------------------------

# Names are capitalised even though rules match case-insensitively: (?-i:...) keeps case.
_W = r"(?-i:(?!I\b|I'm\b|I've\b)[A-Z][\w'’&\-]*)"
CAP = rf"{_W}(?:\s+(?:of|de|da|del|la|le|the|von|van|&)?\s*{_W})*"  # Berlin, Bank of America
NAME = rf"{_W}(?:\s+{_W})?"  # Sam, Sam Lee
_STOP = (
    r"(?=\s+(?:anymore|any more|now|these days|nowadays|a lot|very much|so much|too|because|"
    r"but|since|when|while|and i|and my|every|on weekends|at all)\b|[,.;!?]|$)"
)
OBJ = rf"(?P<o>[a-z0-9][\w'’\- ]*?){_STOP}"
_PRONOUNS = {"it", "that", "this", "you", "them", "him", "her", "those", "these", "one", "to"}
SPECIES = (
    r"dog|cat|puppy|kitten|parrot|rabbit|bunny|hamster|horse|bird|turtle|tortoise|"
    r"fish|goldfish|guinea pig|lizard|snake|ferret|pony"
)
DIETS = r"vegetarian|vegan|pescatarian|keto|paleo|gluten[- ]free|dairy[- ]free|carnivore|omnivore"
JOBS = (
    r"engineer|developer|programmer|teacher|nurse|doctor|designer|manager|lawyer|chef|cook|"
    r"writer|journalist|student|accountant|scientist|researcher|analyst|consultant|architect|"
    r"artist|musician|photographer|pilot|farmer|electrician|plumber|dentist|pharmacist|"
    r"therapist|librarian|professor|lecturer|editor|translator|baker|barista|waiter|waitress|"
    r"firefighter|officer|mechanic|entrepreneur|founder|freelancer|director|product owner|"
    r"intern|surgeon|veterinarian|vet|paramedic|economist|administrator|recruiter|salesperson"
)


@dataclass
class Draft:
    """One extracted fact (the offline model's own working form)."""

    predicate: str
    object: str | None
    statement: str
    subject: str = "user"
    object_kind: str = "value"
    kind: str = "fact"
    polarity: str = "positive"
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    confidence: float = 0.8
    restates: list[str] = field(default_factory=list)
    contradicts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def iso(dt: datetime | None) -> str | None:
            return dt.date().isoformat() if dt else None

        return {
            "subject": self.subject,
            "predicate": self.predicate,
            "object": self.object,
            "object_kind": self.object_kind,
            "statement": self.statement,
            "kind": self.kind,
            "polarity": self.polarity,
            "valid_at": iso(self.valid_at),
            "invalid_at": iso(self.invalid_at),
            "confidence": self.confidence,
            "restates": self.restates,
            "contradicts": self.contradicts,
        }


@dataclass
class Ctx:
    """What a pattern knows besides its sentence."""

    at: datetime
    who: str  # how statements name the user ("Maya" or "The user")
    sentence: str

    def date(self, *, future: bool = False) -> datetime | None:
        hit = find_date(self.sentence, self.at, future=future)
        return hit.when if hit else None

    def clause(self, m: re.Match[str]) -> str:
        """The part of the sentence around a match, between commas / "but" (for guards)."""
        text = self.sentence
        start = max(text.rfind(",", 0, m.start()), text.rfind(" but ", 0, m.start())) + 1
        ends = [i for i in (text.find(",", m.end()), text.find(" but ", m.end())) if i >= 0]
        return text[start : min(ends) if ends else len(text)]

    def day(self) -> datetime:
        return datetime(self.at.year, self.at.month, self.at.day, tzinfo=UTC)


Rule = Callable[[re.Match[str], Ctx], Iterator[Draft]]
_RULES: list[tuple[re.Pattern[str], Rule]] = []


def rule(pattern: str) -> Callable[[Rule], Rule]:
    """Register ``fn`` for sentences matching ``pattern`` (case-insensitive)."""

    def wrap(fn: Rule) -> Rule:
        _RULES.append((re.compile(pattern, re.I), fn))
        return fn

    return wrap


def _clean(raw: str | None) -> str:
    text = strip_dates(raw or "")
    text = re.sub(r"^(?:the|a|an|my|some)\s+", "", text.strip(), flags=re.I)
    text = re.sub(r"\s+(?:now|again|anymore|any more|too|as well)$", "", text, flags=re.I)
    return text.strip(" ,.;:!?'\"")


def _ok(obj: str) -> bool:
    return bool(obj) and obj.lower() not in _PRONOUNS and len(obj) <= 80


def _split_list(raw: str) -> list[str]:
    parts = re.split(r",\s*(?:and\s+)?|\s+and\s+|\s+or\s+", raw)
    return [p for p in (_clean(x) for x in parts) if _ok(p)]


def _article(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _gerund(verb: str) -> str:
    verb = verb.lower()
    if verb.endswith("ing"):
        return verb
    if verb in {"run", "swim", "jog", "shop", "sit", "dig", "skip"}:
        return verb + verb[-1] + "ing"
    if verb.endswith("e") and not verb.endswith("ee"):
        return verb[:-1] + "ing"
    return verb + "ing"


# -- identity --------------------------------------------------------------------------------
@rule(rf"\b(?:my name is|i'm called|i am called|call me)\s+(?P<n>{NAME})")
def _name(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("name", m["n"], f"The user's name is {m['n']}.", kind="trait")


@rule(r"\bi(?:'m| am) (?P<n>\d{1,3})(?: years? old)?(?=[,.;!?]|$| and\b| now\b| this\b)")
def _age(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("age", m["n"], f"{c.who} is {m['n']} years old.", valid_at=c.date())


@rule(r"\bi (?:just |recently )?turned (?P<n>\d{1,3})\b")
def _turned(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("age", m["n"], f"{c.who} is {m['n']} years old.", valid_at=c.date() or c.day())


# -- home ------------------------------------------------------------------------------------
@rule(
    rf"\b(?:i|we)(?:'ve| have)?\s+(?:just\s+|finally\s+|recently\s+|also\s+)?"
    rf"(?:moved|relocated)(?: back)?(?: from (?P<f>{CAP}))? to (?P<o>{CAP})"
)
def _moved(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    when = c.date() or c.day()
    yield Draft(
        "lives_in",
        m["o"],
        f"{c.who} moved to {m['o']} and lives there.",
        object_kind="place",
        valid_at=when,
    )
    if m["f"]:
        yield Draft(
            "lives_in",
            m["f"],
            f"{c.who} used to live in {m['f']}.",
            object_kind="place",
            invalid_at=when,
        )


@rule(
    rf"\bi(?:'ve| have) (?:been )?liv(?:ed|ing) in (?P<o>{CAP}) for (?P<n>\d+|a|an|one|two|"
    r"three|four|five|six|seven|eight|nine|ten) (?P<u>year|month)s?"
)
def _lived_for(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    words = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
    words |= {"six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
    n = int(m["n"]) if m["n"].isdigit() else words[m["n"].lower()]
    since = shift_months(c.day(), -n * (12 if m["u"].lower() == "year" else 1))
    yield Draft("lives_in", m["o"], f"{c.who} lives in {m['o']}.", object_kind="place",
                valid_at=since)  # fmt: skip


@rule(rf"\bi(?:'m| am)? (?:now |currently |still )?(?:live|living|based|settled) in (?P<o>{CAP})")
def _live(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:used to|when i|back when)\b", c.clause(m), re.I):
        return
    yield Draft(
        "lives_in", m["o"], f"{c.who} lives in {m['o']}.", object_kind="place", valid_at=c.date()
    )


@rule(rf"\b(?:back when i|when i|i used to) (?:lived|was living|live) in (?P<o>{CAP})")
def _lived_past(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    # A story about the past: the place is history, never the current home.
    yield Draft(
        "lives_in",
        m["o"],
        f"{c.who} used to live in {m['o']}.",
        object_kind="place",
        invalid_at=c.day(),
    )


@rule(rf"\bi (?:grew up|was born and raised|was raised) in (?P<o>{CAP})")
def _hometown(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("hometown", m["o"], f"{c.who} grew up in {m['o']}.", object_kind="place")


# -- work ------------------------------------------------------------------------------------
@rule(rf"\bi (?:now |currently |still )?work (?:at|for) (?P<o>{CAP})")
def _works(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:used to|when i)\b", c.clause(m), re.I):
        return
    yield Draft("works_at", m["o"], f"{c.who} works at {m['o']}.", object_kind="org",
                valid_at=c.date())  # fmt: skip


@rule(
    r"\b(?:i|and|then)(?:'ve| have)? (?:just |recently |finally )?(?:joined|started "
    r"(?:a new job |working |my new job |a job )?(?:at|with|for)|got (?:a|the) job (?:at|with)"
    r"|was hired by|"
    rf"accepted an offer from|switched to) (?P<o>{CAP})"
)
def _joined(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft(
        "works_at",
        m["o"],
        f"{c.who} works at {m['o']}.",
        object_kind="org",
        valid_at=c.date() or c.day(),
    )


@rule(
    r"\bi(?:'ve| have)? (?:just |recently |finally )?(?:left|quit|resigned from|"
    r"(?:was|got) laid off from|no longer work (?:at|for)|stopped working (?:at|for)) "
    rf"(?P<o>{CAP})"
)
def _left(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft(
        "works_at",
        m["o"],
        f"{c.who} no longer works at {m['o']}.",
        object_kind="org",
        polarity="negative",
        valid_at=c.date() or c.day(),
    )


_TITLE = r"(?P<t>[a-z][a-z\- ]{1,40}?)(?= at | for | in |[,.;!?]|$)"


@rule(
    rf"\bi (?:now )?work as an? {_TITLE}|\bi got promoted to {_TITLE.replace('<t>', '<t2>')}"
    rf"|\bmy (?:new )?(?:job|role|title|position) is (?:now )?(?:an? )?"
    rf"{_TITLE.replace('<t>', '<t3>')}"
)
def _title(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    title = _clean(m["t"] or m["t2"] or m["t3"])
    if _ok(title):
        yield Draft("job_title", title, f"{c.who} works as {_article(title)}.", valid_at=c.date())


@rule(
    r"\b(?:job|position|role|work|hired|started|joined|switched)\b[^.;!?]*?\bas an? "
    r"(?P<t>[a-z][a-z\- ]{1,40}?)(?= at | for | in |[,.;!?]|$)"
)
def _as_title(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    title = _clean(m["t"])
    changed = re.search(r"\b(?:joined|started|switched|hired|new)\b", c.sentence, re.I)
    if _ok(title):
        yield Draft(
            "job_title",
            title,
            f"{c.who} works as {_article(title)}.",
            valid_at=c.date() or (c.day() if changed else None),
        )


@rule(rf"\bi(?:'m| am| became)(?: now)? an? (?P<t>(?:[a-z\-]+ ){{0,3}}(?:{JOBS}))s?\b")
def _title_noun(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:used to|was)\b", c.clause(m), re.I):
        return
    title = _clean(m["t"])
    yield Draft("job_title", title, f"{c.who} works as {_article(title)}.", valid_at=c.date())


# -- people ----------------------------------------------------------------------------------
_CALLED = r"(?:,)?(?: is named| is called|'s name is| named| called| is|,)?\s+"


@rule(
    rf"\bmy (?:wife|husband|partner|girlfriend|boyfriend|fianc[eé]e?|spouse){_CALLED}(?P<n>{NAME})"
)
def _partner(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("partner", m["n"], f"{c.who}'s partner is {m['n']}.", object_kind="person")


@rule(rf"\bi(?:'m| am| got)(?: now)? (?:married to|dating|engaged to|seeing) (?P<n>{NAME})")
def _partner_verb(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft(
        "partner",
        m["n"],
        f"{c.who}'s partner is {m['n']}.",
        object_kind="person",
        valid_at=c.date(),
    )


@rule(r"\b(?:i|we)(?:'m| am| are|'re)? (?:just |recently )?(?:got )?(?P<s>married|engaged|divorced"
      r"|single|separated|widowed)\b")  # fmt: skip
def _status(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    status = m["s"].lower()
    yield Draft(
        "relationship_status", status, f"{c.who} is {status}.", valid_at=c.date() or c.day()
    )


@rule(
    r"\bmy (?:(?:\d+|[a-z]+)[- ]year[- ]old |little |baby |eldest |youngest |oldest )?"
    rf"(?P<r>son|daughter|kid|child|baby|boy|girl){_CALLED}(?P<n>{NAME})"
)
def _child(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("has_child", m["n"], f"{c.who} has a child named {m['n']}.", object_kind="person")


@rule(
    r"\b(?:i|we) have (?:a|an|one|two|three|four) (?:sons?|daughters?|kids|children|boys?|girls?)"
    rf",? (?:named |called )?(?P<a>{NAME})(?:,? (?:and )?(?P<b>{NAME}))?(?:,? and (?P<c>{NAME}))?"
    rf"|\bmy (?:kids|children|sons|daughters)(?: are)?,? (?P<a2>{NAME})(?:,? (?:and )?"
    rf"(?P<b2>{NAME}))?(?:,? and (?P<c2>{NAME}))?"
)
def _children(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    for key in ("a", "b", "c", "a2", "b2", "c2"):
        if m[key]:
            yield Draft(
                "has_child",
                m[key],
                f"{c.who} has a child named {m[key]}.",
                object_kind="person",
            )


@rule(rf"\bmy (?:new )?(?P<s>{SPECIES}){_CALLED}(?P<n>{NAME})")
def _pet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft("has_pet", m["n"], f"{c.who} has a {m['s']} named {m['n']}.", object_kind="pet")


@rule(
    r"\b(?:i|we)(?:'ve| have)? (?:just |recently )?(?:have|got|adopted|rescued|bought) "
    rf"(?:a |an |another )?(?:new )?(?:little )?(?P<s>{SPECIES})(?: named| called|,) (?P<n>{NAME})"
)
def _got_pet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield Draft(
        "has_pet",
        m["n"],
        f"{c.who} has a {m['s']} named {m['n']}.",
        object_kind="pet",
        valid_at=c.date(),
    )


# -- food ------------------------------------------------------------------------------------
@rule(
    rf"\b(?:i(?:'m| am)(?: now| a| an| strictly| fully)*|i went|i(?:'ve| have) been"
    rf"(?: a| an)?|i eat(?: a| an)?|i(?:'m| am) on an?) (?P<d>{DIETS})\b"
)
def _diet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:not|no longer|stopped|quit|anymore)\b", c.clause(m), re.I):
        return
    diet = m["d"].lower().replace(" ", "-")
    yield Draft("diet", diet, f"{c.who} is {diet}.", valid_at=c.date(), kind="preference")


@rule(
    rf"\bi(?:'m| am) (?:not|no longer) (?:a |an )?(?P<d>{DIETS})|\bi(?:'ve| have)? (?:stopped|"
    rf"quit) being (?:a |an )?(?P<d2>{DIETS})"
)
def _not_diet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    diet = (m["d"] or m["d2"]).lower().replace(" ", "-")
    yield Draft(
        "diet",
        diet,
        f"{c.who} is no longer {diet}.",
        polarity="negative",
        kind="preference",
        valid_at=c.date() or c.day(),
    )


@rule(r"\bi(?:'m| am) (?:severely |very |really |quite |deathly )?allergic to (?P<o>[^.;!?]+)")
def _allergic(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    for item in _split_list(m["o"]):
        yield Draft("allergic_to", item, f"{c.who} is allergic to {item}.")


@rule(r"\bi have an? (?P<o>[a-z]+(?: [a-z]+)?) allergy")
def _allergy(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    item = _clean(m["o"])
    if _ok(item):
        yield Draft("allergic_to", item, f"{c.who} is allergic to {item}.")


# -- likes -----------------------------------------------------------------------------------
_UNLIKE = (
    rf"\bi (?:don't|do not|dont) (?:really )?(?:like|love|enjoy|eat) {OBJ}\s+(?:anymore|any more)"
    rf"|\bi no longer (?:like|love|enjoy|eat) {OBJ.replace('<o>', '<o2>')}"
    rf"|\bi(?:'ve| have)? (?:stopped|quit) (?:liking|eating|enjoying|loving) "
    rf"{OBJ.replace('<o>', '<o3>')}"
    rf"|\bi(?:'m| am) (?:not|no longer) into {OBJ.replace('<o>', '<o4>')}"
    rf"|\bi(?:'ve| have) gone off {OBJ.replace('<o>', '<o5>')}"
)


@rule(_UNLIKE)
def _unlike(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    raw = next(m[k] for k in ("o", "o2", "o3", "o4", "o5") if m[k])
    for item in _split_list(raw):
        yield Draft(
            "likes",
            item,
            f"{c.who} no longer likes {item}.",
            kind="preference",
            polarity="negative",
            valid_at=c.date() or c.day(),
        )


@rule(rf"\bi (?:really |absolutely |just )?(?:hate|dislike|detest|can't stand|cannot stand) {OBJ}")
def _dislike(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    for item in _split_list(m["o"]):
        yield Draft("dislikes", item, f"{c.who} dislikes {item}.", kind="preference")


@rule(rf"\bi (?:really )?(?:don't|do not|dont) (?:really )?(?:like|enjoy) {OBJ}")
def _dont_like(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:anymore|any more)\b", c.clause(m), re.I):
        return  # that is a change of taste, handled by _unlike
    for item in _split_list(m["o"]):
        yield Draft("dislikes", item, f"{c.who} dislikes {item}.", kind="preference")


@rule(
    r"\bi(?:'ve| have|'m| am)? (?:now |really |absolutely |just |also |started |come to |"
    rf"grown to )?(?:love|like|enjoy|adore|liking|loving|enjoying|into|a (?:big |huge )?fan of) "
    rf"{OBJ}"
)
def _like(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:don't|do not|dont|no longer|not|stopped|used to)\b", c.clause(m), re.I):
        return
    changed = re.search(r"\b(?:now|started|come to|grown to|these days)\b", c.clause(m), re.I)
    for item in _split_list(re.sub(r"^to\s+", "", m["o"])):
        yield Draft(
            "likes",
            item,
            f"{c.who} likes {item}.",
            kind="preference",
            valid_at=c.date() or (c.day() if changed else None),
        )


@rule(r"\bmy (?:absolute |all-time )?favou?rite (?P<cat>[a-z ]{2,30}?) (?:is|are) (?P<o>[^.;!?,]+)")
def _favourite(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    item = _clean(m["o"])
    if _ok(item):
        yield Draft("likes", item, f"{c.who}'s favourite {m['cat']} is {item}.", kind="preference")


# -- hobbies ---------------------------------------------------------------------------------
@rule(r"\bmy (?:new |main |favou?rite )?(?:hobby is|hobbies are|pastime is) (?P<o>[^.;!?]+)")
def _hobby(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    for item in _split_list(m["o"]):
        yield Draft("hobby", item, f"{c.who}'s hobbies include {item}.", kind="preference")


@rule(
    r"\bi(?:'ve| have)? (?:recently |just )?(?:taken up|took up|picked up|got into|started) "
    r"(?P<o>[a-z]+ing(?: [a-z]+)?|(?:the )?(?:guitar|piano|violin|drums|chess|yoga|pilates|"
    r"tennis|golf|football|soccer|climbing|pottery|karate|judo|boxing|crossfit))\b"
)
def _took_up(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    item = _clean(m["o"])
    yield Draft(
        "hobby",
        item,
        f"{c.who} took up {item}.",
        kind="preference",
        valid_at=c.date() or c.day(),
    )


@rule(
    r"\bi (?:go|went) (?P<o>[a-z]+ing)\b(?= (?:every|on|most|each|twice|regularly|a lot))"
    r"|\bi (?:play|practi[cs]e) (?P<o2>(?:the )?[a-z]+)\b(?= (?:every|on|most|each|twice|"
    r"regularly|a lot|at weekends|on weekends))"
)
def _regular(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:used to)\b", c.clause(m), re.I):
        return
    item = _clean(m["o"] or m["o2"])
    if _ok(item):
        yield Draft("hobby", item, f"{c.who} regularly does {item}.", kind="preference")


@rule(r"\bi used to (?:go )?(?P<o>[a-z]+)\b(?: [a-z]+)?(?= every| on | most| each| a lot|[,.;]|$)")
def _used_to(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    verb = m["o"].lower()
    if verb in {"live", "work", "be", "have", "like", "love", "eat", "think", "go"}:
        return
    item = _gerund(verb)
    yield Draft(
        "hobby",
        item,
        f"{c.who} used to go {item}.",
        kind="preference",
        invalid_at=c.day(),
        confidence=0.6,
    )


# -- plans -----------------------------------------------------------------------------------
@rule(
    r"\b(?:i|we)(?:'m| am|'re| are)? (?P<v>going|planning|about|flying|travell?ing|heading|"
    r"moving|hoping|due) to (?P<o>[^.;!?]+)|\b(?:i|we) plan to (?P<o2>[^.;!?]+)"
    r"|\bi(?:'ll| will) be "
    r"(?P<o3>(?:visiting|flying|travell?ing|moving|starting|running|going)[^.;!?]+)"
)
def _plans(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    when = c.date(future=True)
    raw = m["o"] or m["o2"] or m["o3"]
    trip = bool(m["v"]) and m["v"].lower() in {"going", "flying", "travelling", "traveling",
                                                 "heading", "moving"}  # fmt: skip
    what = _clean(f"{m['v'].lower()} to {raw}" if trip else raw)
    if not _ok(what) or (when is None and not trip):
        return  # "going to" with no date and no trip is too vague to remember
    yield Draft("plans", what, f"{c.who} plans: {what}.", kind="event", valid_at=when)


# -- linking to existing facts ---------------------------------------------------------------
def _key(text: str | None) -> str:
    return normalise_name(text or "")


def _subject_key(subject: str) -> str:
    key = _key(subject)
    return "user" if key in {"user", "i", "me", "self", "the user"} else key


def link(draft: Draft, prompt: ParsedPrompt) -> None:
    """Fill ``restates`` / ``contradicts`` from the candidates, where it is obvious."""
    same = [
        c
        for c in prompt.candidates
        if c.predicate == draft.predicate and _subject_key(c.subject) == _subject_key(draft.subject)
    ]
    past = draft.invalid_at is not None
    for cand in same:
        equal = _key(cand.object) == _key(draft.object)
        if equal and cand.polarity == draft.polarity:
            draft.restates.append(cand.short_id)
            if past and draft.valid_at is None:
                draft.valid_at = cand.valid_at
        elif past or not cand.current:
            continue
        elif equal and cand.polarity != draft.polarity:
            draft.contradicts.append(cand.short_id)
        elif draft.predicate in prompt.functional and draft.polarity == "positive":
            older = cand.valid_at and draft.valid_at and draft.valid_at < cand.valid_at
            if not older:
                draft.contradicts.append(cand.short_id)
    if past and not draft.restates and draft.predicate in prompt.functional:
        # A story about an old home ended when the current one began, if we know when.
        current = [c for c in same if c.current and c.valid_at and c.polarity == "positive"]
        if current:
            draft.invalid_at = min(c.valid_at for c in current if c.valid_at)
    if draft.invalid_at and draft.valid_at and draft.valid_at > draft.invalid_at:
        draft.valid_at = None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+|\n+", text) if s.strip()]


def extract(prompt: ParsedPrompt) -> dict[str, Any]:
    """Facts and entities in the prompt's new user messages, as an ``ExtractionOutput`` dict."""
    who = prompt.user_name or "The user"
    drafts: list[Draft] = []
    seen: set[tuple[str, str, str, str]] = set()
    for message in prompt.new:
        if message.role != "user":
            continue
        for sentence in _sentences(message.text):
            ctx = Ctx(at=message.at, who=who, sentence=sentence)
            for pattern, fn in _RULES:
                for match in pattern.finditer(sentence):
                    for d in fn(match, ctx):
                        key = (d.subject, d.predicate, _key(d.object), d.polarity)
                        if key in seen or not d.object:
                            continue
                        seen.add(key)
                        drafts.append(d)
    entities: dict[str, dict[str, str]] = {}
    for d in drafts:
        link(d, prompt)
        if d.object and d.object_kind != "value":
            entities.setdefault(_key(d.object), {"name": d.object, "kind": d.object_kind})
    return {"entities": list(entities.values()), "facts": [d.to_dict() for d in drafts]}
