"""Who a message talks about: names typed in lowercase, and the person a "she" stands for.

The rules find people by their capital letter. Chat often has none ("my sister tamara",
"his name is jaylen"), so before the rules run :func:`truecase_names` capitalises a word that
is a name by its place: right after a naming phrase ("named", "name is"), right after a role
("my sister", "my wife", "my cat") when it is no English word, and anywhere it is a name
the memory or the message already knows.

:func:`resolve_pronouns` then writes the name in place of a subject "he" / "she" when the
message said exactly whom it means: the latest person mentioned before it whose role agrees
with the pronoun ("my mother Halina ... she lives in Opole"). A role mentioned with no name
in between ("my boss ... he is from Denmark") blocks it: saying nothing beats a wrong person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from memlane.llm.offline.rules.clauses import EMOJI, NAME
from memlane.llm.offline.rules.normalise import is_word, word_set
from memlane.llm.offline.rules.people import _CHILD, _PARTNER, ROLES, SPECIES

__all__ = ["last_named", "named_people", "resolve_pronouns", "truecase_names"]

_FEMALE = word_set(
    "sister mother mom mum mama wife girlfriend daughter girl aunt niece grandma grandmother "
    "granddaughter fiancee fiancée stepdaughter"
)
_MALE = word_set(
    "brother father dad papa husband boyfriend son boy uncle nephew grandpa grandfather grandson "
    "fiance fiancé stepson"
)
_ROLE_WORDS = "|".join(
    sorted(
        {
            *(re.escape(r) for r in ROLES),
            *_PARTNER.split("|"),
            *_CHILD.split("|"),
            *SPECIES.split("|"),
        },
        key=len,
        reverse=True,
    )
)
_ADJ = r"(?:(?:new|little|big|older|younger|eldest|youngest|oldest|baby|sweet|old|rescue)\s+)*"
# "my sister", and a role whose "my" chat drops: "brother arjun got into IIT" at the start of
# a sentence, "my daughter Zuzia is 8 and son Kuba is 5" after "and".
_OWNED = r"(?:\b(?:my|our)\s+|(?<=\band\s)|^|(?<=[.!?]\s))"
_ROLE = re.compile(
    rf"{_OWNED}{_ADJ}(?P<role>{_ROLE_WORDS})\b(?:(?:,|\s+(?:is\s+)?(?:named|called))?"
    rf"\s+(?P<name>{NAME}))?",
    re.I,
)
_NAMING = re.compile(r"\b(?:named|called|name is|name's|names)\s+(?P<n>[a-zà-ÿ][a-zà-ÿ'’\-]+)")
_NAMED_HIM = re.compile(r"\b(?:named|called)\s+(?:him|her|it)\s+(?P<n>[a-zà-ÿ][a-zà-ÿ'’\-]+)")
# "declan and i separated", "me and freja": the one doing something with the user, when no
# English word, is a person.
_WITH_ME = re.compile(
    r"(?:^|(?<=[.!?,;:]\s))(?:(?:so|and|but|ok|well|then)\s+)?(?P<n>[a-zà-ÿ][a-zà-ÿ\-]+)"
    r"(?=\s+and\s+i\b)"
    r"|\bme and (?P<n2>[a-zà-ÿ][a-zà-ÿ\-]+)\b",
    re.I,
)
# "ruby turned 15 today", "harper turned 1 this wk": a bare word opening a sentence that
# has a birthday is a name, even an English word's.
_BIRTHDAY = re.compile(
    r"(?:^|(?<=[.!?]\s))(?P<n>[a-zà-ÿ][a-zà-ÿ\-]+)(?= (?:just )?turned \d{1,3}\b"
    r"(?: years?(?: old)?)? (?:today|yesterday|this (?:week|wk|weekend|month)|"
    r"last (?:week|wk|night|month)|on\b))"
)
_AFTER_ROLE = re.compile(
    rf"{_OWNED}{_ADJ}(?:{_ROLE_WORDS})\s+(?P<n>[a-zà-ÿ][a-zà-ÿ\-]+)(?=['’]s\b|\b)", re.I
)
_BIRTHDAY_NOT = word_set(
    "he she it they we i you who everyone nobody mine yours baby kid son daughter"
)
_NOT_NAME_WORDS = word_set(
    "a an the my our his her their it that this something someone after like me him them you us "
    "what because so and but or not"
)


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


# "his name is Jaylen", "her name's Pickle": a name given with the pronoun's gender.
_NAMED_BY_PRONOUN = re.compile(rf"\b(?P<p>[Hh]is|[Hh]er) name(?: is|['’]s)\s+(?P<name>{NAME})")
# "a retired greyhound called Pippin", "a young woman named Mireille": named, gender unknown.
_NAMED = re.compile(rf"\b(?:named|called)\s+(?P<name>{NAME})")


def named_people(text: str) -> dict[str, str | None]:
    """Names the message gives people or pets by a role ("my sister Marta") or by a pronoun
    ("his name is Jaylen"): name -> role (or "he" / "she")."""
    out: dict[str, str | None] = {
        m["name"]: m["role"].lower() for m in _ROLE.finditer(text) if m["name"]
    }
    for m in _NAMED_BY_PRONOUN.finditer(text):
        out.setdefault(m["name"], "he" if m["p"].lower() == "his" else "she")
    for m in _NAMED.finditer(text):
        out.setdefault(m["name"], None)
    return out


def truecase_names(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with lowercase names capitalised where their place shows they are names."""
    found: set[str] = set()

    def naming(m: re.Match[str]) -> str:
        word = m["n"]
        if word in _NOT_NAME_WORDS:
            return m.group(0)
        found.add(word.casefold())
        return m.group(0)[: m.start("n") - m.start()] + _cap(word)

    def after_role(m: re.Match[str]) -> str:
        word = m["n"]
        if word in _NOT_NAME_WORDS or is_word(word):
            return m.group(0)  # "my sister lives", "my dog pickle" (a word: only if named)
        found.add(word.casefold())
        return m.group(0)[: m.start("n") - m.start()] + _cap(word)

    def named_him(m: re.Match[str]) -> str:
        word = m["n"]
        if word in _NOT_NAME_WORDS or (m.group(0).lower().startswith("called") and is_word(word)):
            return m.group(0)  # "called her yesterday", "named him after" ("named her kiwi" names)
        found.add(word.casefold())
        return m.group(0)[: m.start("n") - m.start()] + _cap(word)

    def with_me(m: re.Match[str]) -> str:
        key = "n" if m["n"] else "n2"
        word = m[key]
        if word.lower() in _NOT_NAME_WORDS or is_word(word) or not word.islower():
            return m.group(0)
        found.add(word.casefold())
        return m.group(0)[: m.start(key) - m.start()] + _cap(word)

    def birthday(m: re.Match[str]) -> str:
        word = m["n"]
        if word.lower() in _NOT_NAME_WORDS or word.lower() in _BIRTHDAY_NOT:
            return m.group(0)
        found.add(word.casefold())
        return _cap(word)

    text = _NAMING.sub(naming, text)
    text = _NAMED_HIM.sub(named_him, text)
    text = _AFTER_ROLE.sub(after_role, text)
    text = _WITH_ME.sub(with_me, text)
    text = _BIRTHDAY.sub(birthday, text)
    names = found | {k.casefold() for k in known if k and " " not in k}
    if not names:
        return text
    return re.sub(
        r"\b[a-zà-ÿ][a-zà-ÿ\-]+\b",
        lambda m: _cap(m.group(0)) if m.group(0) in names else m.group(0),
        text,
    )


@dataclass(frozen=True)
class _Mention:
    at: int
    name: str | None
    gender: str | None  # "f", "m" or None (unknown)


def _gender(role: str | None) -> str | None:
    role = (role or "").lower().split()[-1] if role else ""
    if role in ("he", "she"):
        return "m" if role == "he" else "f"
    return "f" if role in _FEMALE else "m" if role in _MALE else None


def _mentions(text: str, known: dict[str, str | None]) -> list[_Mention]:
    out = [_Mention(m.start(), m["name"], _gender(m["role"])) for m in _ROLE.finditer(text)]
    covered = [(m.start(), m.end()) for m in _ROLE.finditer(text)]
    for m in _NAMED_BY_PRONOUN.finditer(text):
        out.append(_Mention(m.start(), m["name"], "m" if m["p"].lower() == "his" else "f"))
        covered.append((m.start(), m.end()))
    for m in _NAMED.finditer(text):
        if not any(a <= m.start() < b for a, b in covered):
            out.append(_Mention(m.start("name"), m["name"], None))
            covered.append((m.start(), m.end()))
    for name, role in known.items():
        for m in re.finditer(rf"\b{re.escape(name)}\b", text):
            if not any(a <= m.start() < b for a, b in covered):
                out.append(_Mention(m.start(), name, _gender(role)))
    return sorted(out, key=lambda x: x.at)


_PRONOUN = re.compile(
    rf"(?:^|(?<=[.!?;,:({EMOJI}]\s)|(?<=\band\s)|(?<=\bbut\s)|(?<=\bso\s)|(?<=\bnow\s)"
    r"|(?<=\bbecause\s)|(?<=\bsince\s)|(?<=\bwhere\s)|(?<=\bthen\s))"
    r"(?P<p>[Ss]he|[Hh]e)(?P<v>['’]s been\b|['’]s\b|\s+(?=[a-z]))",
)


# "his place is in Decatur", "her job at Swiggy": a possessive before what a person has
# (a home, a job) is resolved like a subject, to "Darnell's place", "Rohan's job".
_BELONGING = (
    r"place|home|flat|apartment|apt|house|dorm|room|unit|condo|townhouse|job|work|office|"
    r"company|employer|clinic|practice|school|shift|salary|pay"
)
_POSSESSIVE = re.compile(
    r"(?:^|(?<=\s))(?P<p>[Hh]is|[Hh]er)\s+(?=(?:(?:new|own|old|current|first)\s+)?"
    rf"(?:{_BELONGING})\b)"
)


def _referent(mentions: list[_Mention], at: int, want: str) -> str | None:
    before = [x for x in mentions if x.at < at and x.gender in (want, None)]
    if not before or before[-1].name is None:
        return None  # nobody named, or the latest fit is an unnamed role ("my boss")
    return before[-1].name


def _possessives(text: str, mentions: list[_Mention]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = _referent(mentions, m.start(), "m" if m["p"].lower() == "his" else "f")
        return f"{name}'s " if name else m.group(0)

    return _POSSESSIVE.sub(sub, text)


def last_named(previous: str, known: dict[str, str | None]) -> _Mention | None:
    """The one person an earlier message of the conversation names, if exactly one: whom a
    message opening with "He leaves on the 3rd" goes on about."""
    people = {**known, **named_people(previous)}
    found = {x.name: x for x in _mentions(previous, people) if x.name}
    if len(found) != 1:
        return None
    only = next(iter(found.values()))
    return _Mention(-1, only.name, only.gender)


def resolve_pronouns(
    text: str, known: dict[str, str | None], before: _Mention | None = None
) -> str:
    """``text`` with a subject "he" / "she", or a possessive "his" / "her" before a home or a
    job, replaced by the one person it can only mean; ``before`` is the one person the
    previous message named (see :func:`last_named`), for a pronoun nobody in ``text`` fits."""
    people = {**known, **named_people(text)}
    if not people and before is None:
        return text
    earlier = [before] if before is not None else []
    text = _possessives(text, earlier + _mentions(text, people))
    mentions = earlier + _mentions(text, people)
    pieces: list[str] = []
    last = 0
    for m in _PRONOUN.finditer(text):
        want = "f" if m["p"].lower() == "she" else "m"
        name = _referent(mentions, m.start(), want)
        if name is None:
            continue
        verb = m["v"]
        has = "been" in verb or (verb[:1] in "'’" and text.startswith(" got", m.end()))
        said = (
            " has been"
            if "been" in verb
            else " has"
            if has
            else " is"
            if verb[:1] in "'’"
            else verb
        )
        head = text[last : m.start()]
        if head.endswith(" and "):
            head = head[: -len(" and ")] + ", and "  # keeps the clause boundary "and she" had
        pieces += [head, name + said]
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces)
