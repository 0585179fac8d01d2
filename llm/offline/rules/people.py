"""Offline extraction rules about the people and pets in the user's life.

Partners ("my wife Anna", "Anna and I started dating", "I'm seeing someone - Anna"),
children ("our son Leo was born", "Leo, our son, arrived"), pets ("a cat named Miso",
"meet Miso, my new cat"), relatives and friends ("my sister Maya lives in Oslo"), and what
those people do: a fact whose subject is a named person ("Adrian relocated to Copenhagen",
"my brother moved to Lisbon" when the prompt shows who the brother is).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from memlane.llm.offline.rules.clauses import CAP, NAME, TRIP, Ctx, Draft, article, rule
from memlane.llm.offline.rules.self_facts import JOBS
from memlane.memory_graph.model import normalise_name

__all__ = ["ROLES", "SPECIES"]

SPECIES = (
    r"dog|cat|puppy|kitten|parrot|rabbit|bunny|hamster|horse|bird|turtle|tortoise|"
    r"fish|goldfish|guinea pig|lizard|snake|ferret|pony|budgie|gecko|pup"
)
ROLES = {
    "sister": "has_sibling", "brother": "has_sibling", "sibling": "has_sibling",
    "twin": "has_sibling", "little sister": "has_sibling", "big sister": "has_sibling",
    "little brother": "has_sibling", "big brother": "has_sibling",
    "older sister": "has_sibling", "older brother": "has_sibling",
    "younger sister": "has_sibling", "younger brother": "has_sibling",
    "mom": "has_parent", "mum": "has_parent", "mother": "has_parent", "dad": "has_parent",
    "father": "has_parent", "mama": "has_parent", "papa": "has_parent",
    "best friend": "friend_of", "friend": "friend_of", "close friend": "friend_of",
    "oldest friend": "friend_of", "childhood friend": "friend_of", "buddy": "friend_of",
    "son": "has_child", "daughter": "has_child",
    "cousin": "related_to", "aunt": "related_to", "uncle": "related_to", "niece": "related_to",
    "nephew": "related_to", "grandma": "related_to", "grandmother": "related_to",
    "grandpa": "related_to", "grandfather": "related_to", "grandson": "related_to",
    "granddaughter": "related_to", "stepson": "has_child", "stepdaughter": "has_child",
    "roommate": "related_to", "flatmate": "related_to", "housemate": "related_to",
    "colleague": "related_to", "coworker": "related_to", "co-worker": "related_to",
    "boss": "related_to", "neighbour": "related_to", "neighbor": "related_to",
}  # fmt: skip
_ROLE = "|".join(sorted((re.escape(r) for r in ROLES), key=len, reverse=True))
_PARTNER = r"wife|husband|partner|girlfriend|boyfriend|fianc[eé]e?|spouse"
_CHILD = r"son|daughter|kid|child|baby|boy|girl|baby boy|baby girl|little one"
_CALLED = r"(?:,)?(?: is named| is called|'s name is| named| called|,)?\s+"
_HONORIFIC = re.compile(r"^(?:Dr|Mr|Mrs|Ms|Miss|Prof|Doctor|Professor)\b\.?")
# Capitalised words that open sentences but never name a person.
_NOT_NAMES = {
    "just", "still", "also", "finally", "recently", "then", "now", "today", "yesterday",
    "everyone", "everybody", "nobody", "someone", "somebody", "he", "she", "they", "it",
    "we", "you", "this", "that", "who", "honestly", "actually", "big", "good", "great",
    "new", "home", "back", "turns", "meet", "my", "our", "the", "a", "an", "after",
    "before", "when", "since", "so", "and", "but", "well", "oh", "hey", "hi", "hello",
    "life", "work", "things", "family", "mom", "dad", "mum", "there", "here",
}  # fmt: skip


def _person(name: str | None) -> bool:
    return (
        bool(name)
        and normalise_name(name or "") not in _NOT_NAMES
        and not (_HONORIFIC.match(name or ""))
    )


def _role(c: Ctx, raw: str | None) -> str | None:
    return ROLES.get(re.sub(r"\s+", " ", raw or "").lower())


def _link(c: Ctx, role: str, name: str) -> Draft:
    predicate = ROLES[role.lower()]
    return Draft(predicate, name, f"{name} is {c.whom}'s {role.lower()}.", object_kind="person",
                 kind="fact")  # fmt: skip


def _partner_draft(c: Ctx, name: str, m: re.Match[str], *, changed: bool) -> Draft:
    when = c.date(m, near=changed) or (c.day() if changed else None)
    return Draft("partner", name, f"{c.who}'s partner is {name}.", object_kind="person",
                 valid_at=when)  # fmt: skip


# -- partner ---------------------------------------------------------------------------------
@rule(rf"\bmy (?:new )?(?:{_PARTNER}){_CALLED}(?P<n>{NAME})")
def _partner(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if _person(m["n"]) and not re.search(r"\bex[- ]", c.clause(m), re.I):
        yield _partner_draft(c, m["n"], m, changed=bool(re.search(r"\bnew\b", m.group(0))))


@rule(
    rf"\bi(?:'m| am| got| have been|'ve been)(?: now| officially| happily)* (?:married to|dating|"
    rf"engaged to|seeing|going out with|in a relationship with|together with) (?P<n>{NAME})"
    rf"|\bi(?:'ve| have)? (?:just |recently )?(?:started|began) (?:dating|seeing|going out with) "
    rf"(?P<n2>{NAME})"
    rf"|\b(?:dating|seeing) (?:someone|somebody)(?: new)?\s*(?:[-–—:,]|\bnamed\b|\bcalled\b)\s*"
    rf"(?P<n3>{NAME})"
    rf"|\bi have a (?:new )?(?:{_PARTNER})(?: now)?,? (?:named |called )?(?P<n4>{NAME})"
    rf"|\bi(?:'m| am) with (?P<n5>{NAME}) (?=now\b|these days\b|nowadays\b)"
)
def _partner_verb(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    name = m["n"] or m["n2"] or m["n3"] or m["n4"] or m["n5"]
    if _person(name):
        yield _partner_draft(c, name, m, changed=True)


@rule(
    rf"\b(?P<n>{NAME}) and i (?:have )?(?:just |recently |finally |officially )?(?:started "
    r"(?:going out|dating|seeing each other)|got together|are (?:together|dating|a couple)|"
    r"are official|made it official|are exclusive|became a couple|got (?:married|engaged))"
    rf"|\b(?:met|first date with) (?P<n2>{NAME})\b[^.!?]*\bwe(?:'re| are)? (?:got together|"
    r"started (?:dating|going out|seeing each other)|together|dating|a couple|official)"
)
def _couple(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    name = m["n"] or m["n2"]
    if _person(name):
        yield _partner_draft(c, name, m, changed=True)


@rule(
    rf"(?:^|(?<=[,;:!.] ))(?P<a>{NAME}) and (?!I\b)(?P<b>{NAME}) (?:just |finally |have |had )?"
    r"(?:got|were|are|have been|had been) (?P<s>married|engaged)\b"
)
def _their_wedding(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Callum and Mireille were married yesterday": a couple of two people in the user's
    life; the one memory knows (or the first) is the subject."""
    a, b = m["a"], m["b"]
    if (
        not (_person(a) and _person(b))
        or c.opens_question(m)
        or "user" in (c.subject(a), c.subject(b))
    ):
        return
    known = c.prompt.people()
    if normalise_name(b) in known and normalise_name(a) not in known:
        a, b = b, a
    if normalise_name(a) not in known:
        return  # two names memory does not know: a story about strangers
    verb = "married" if m["s"].lower() == "married" else "engaged to"
    yield Draft("partner", b, f"{a} is {verb} {b}.", subject=a, object_kind="person",
                valid_at=c.date(m, near=True) or c.day())  # fmt: skip


@rule(
    rf"\b(?P<n>{NAME}) and i (?:have )?(?:just )?(?:split|broke up|separated|divorced)"
    rf"|\bi (?:split|broke up) with (?P<n2>{NAME})"
    rf"|\bthings ended with (?P<n3>{NAME})"
)
def _breakup(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    name = m["n"] or m["n2"] or m["n3"]
    if not _person(name):
        return
    # A new partner named in the same message closes the old one at the right date itself.
    if re.search(r"\b(?:dating|seeing|with|met|together)\b", c.message.split(name, 1)[-1]):
        return
    yield Draft("partner", name, f"{c.who} and {name} split up.", object_kind="person",
                polarity="negative", valid_at=c.date(m) or c.day())  # fmt: skip


@rule(
    r"\b(?:i|we)(?:'m| am| are|'re)? (?:just |recently )?(?:got )?(?P<s>married|engaged|divorced"
    r"|single|separated|widowed)\b"
)
def _status(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    if re.search(r"\b(?:not|never|no longer)\b", c.clause(m), re.I) or c.opens_question(m):
        return
    status = m["s"].lower()
    who = _status_with(m, c, status)
    if who:
        status = f"{status} {'from' if status in ('separated', 'divorced') else 'to'} {who}"
    yield Draft("relationship_status", status, f"{c.who} is {status}.",
                valid_at=c.date(m) or c.day())  # fmt: skip


def _status_with(m: re.Match[str], c: Ctx, status: str) -> str | None:
    """Whom a status is with: the person the clause names ("Freja and I got engaged",
    "married to Bia"), else the one partner memory holds. "single" and "widowed" are with
    nobody."""
    if status in ("single", "widowed"):
        return None
    named = re.search(rf"\b(?P<n>{NAME}) and $", c.sentence[: m.start()]) or re.search(
        rf"\b(?:to|from|with) (?P<n>{NAME})", c.sentence[m.end() :]
    )
    if named and _person(named["n"]):
        return named["n"]
    partners = {p.object for p in c.prompt.objects_of("partner")}
    return partners.pop() if len(partners) == 1 else None


# -- children --------------------------------------------------------------------------------
@rule(
    r"\b(?:my|our) (?:(?:\d+|[a-z]+)[- ](?:year|month|week)[- ]old |little |new |newborn |"
    rf"baby |eldest |youngest |oldest )?(?P<r>{_CHILD}){_CALLED}(?P<n>{NAME})"
    rf"|\b(?P<n2>{NAME}),? (?:my|our) (?:new |newborn |baby |little )?(?P<r2>{_CHILD})\b"
)
def _child(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    name = m["n"] or m["n2"]
    if not _person(name):
        return
    born = re.search(r"\b(?:was born|arrived|born|came into the world)\b", c.sentence, re.I)
    yield Draft("has_child", name, f"{c.who} has a child named {name}.", object_kind="person",
                valid_at=c.date(m, near=True) if born else None)  # fmt: skip


@rule(
    r"\b(?:i|we) have (?:a|an|one|two|three|four) (?:sons?|daughters?|kids|children|boys?|girls?)"
    rf",? (?:named |called )?(?P<a>{NAME})(?:,? (?:and )?(?P<b>{NAME}))?(?:,? and (?P<c>{NAME}))?"
    rf"|\bmy (?:kids|children|sons|daughters)(?: are)?,? (?P<a2>{NAME})(?:,? (?:and )?"
    rf"(?P<b2>{NAME}))?(?:,? and (?P<c2>{NAME}))?"
)
def _children(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    for key in ("a", "b", "c", "a2", "b2", "c2"):
        if m[key] and _person(m[key]):
            yield Draft("has_child", m[key], f"{c.who} has a child named {m[key]}.",
                        object_kind="person")  # fmt: skip


# -- pets ------------------------------------------------------------------------------------
def _pet(c: Ctx, m: re.Match[str], species: str, name: str, *, got: bool) -> Iterator[Draft]:
    if _person(name):
        yield Draft("has_pet", name, f"{c.who} has a {species.lower()} named {name}.",
                    object_kind="pet", valid_at=c.date(m, near=got))  # fmt: skip


@rule(rf"\b(?:my|our) (?:new )?(?:little )?(?P<s>{SPECIES}){_CALLED}(?P<n>{NAME})")
def _my_pet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    got = bool(re.search(r"\b(?:new|adopted|got|brought)\b", c.sentence, re.I))
    yield from _pet(c, m, m["s"], m["n"], got=got)


@rule(
    r"\b(?:i|we)(?:'ve| have)? (?:just |recently |finally )?(?:have|got|adopted|rescued|bought|"
    r"brought home|took in|welcomed) (?:home )?(?:a |an |another |our |my )?(?:new )?(?:little )?"
    rf"(?P<s>{SPECIES})\b(?:[^.!?]{{0,50}}?\b(?:named|called)\s+|\s*[-–—:,]\s*)(?P<n>{NAME})"
    rf"|\bmeet (?P<n2>{NAME}),? (?:my|our) (?:new )?(?:little )?(?P<s2>{SPECIES})\b"
)
def _got_pet(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield from _pet(c, m, m["s"] or m["s2"], m["n"] or m["n2"], got=True)


@rule(
    r"\b(?:i|we)(?:'ve| have)? (?:just |recently |finally )?(?:adopted|rescued|took in) "
    rf"(?:a|an) (?P<what>(?:[\w\-]+ ){{1,3}}?)(?:named|called) (?P<n>{NAME})"
)
def _adopted(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "We adopted a retired greyhound called Pippin": whatever was adopted (a breed no list
    holds) is a pet, unless the words say a child."""
    what = m["what"].strip()
    if re.search(rf"\b(?:{_CHILD})\b", what, re.I):
        return  # "adopted a baby girl named Ada": the child rules' business
    yield from _pet(c, m, what.split()[-1], m["n"], got=True)


_GOT_PET = re.compile(
    r"\b(?:got|get|adopted|adopt|take|took|rescued|picked up|bought|brought home|found|welcomed)"
    rf"\b[^.!?]{{0,30}}?\b(?:a |an |the |our |my )?(?:[\w\-]+ )?(?:{SPECIES})\b",
    re.I,
)


@rule(
    rf"\b(?<!my )(?<!['’]s )(?:(?:his|her|its|the) )?name(?: is|['’]s) (?P<n>{NAME})"
    rf"|\b(?:named|called) (?:him|her|it) (?P<n2>{NAME})"
)
def _pet_named(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "We take dog from shelter! ... name is Bursztyn", "got a pup. named her Dixie": a name
    given in a message about getting an animal is the new pet's."""
    got = _GOT_PET.search(c.message)
    if got is None or got.start() > c.message.find(m.group(0)) >= 0:
        return
    name = m["n"] or m["n2"]
    if c.subject(name) == "user":
        return  # "We adopted a cat. Sam here btw, name is Sam": the user's own name
    species = re.search(rf"\b(?:{SPECIES})\b", got.group(0), re.I)
    yield from _pet(c, m, species.group(0) if species else "pet", name, got=True)


# -- relatives, friends, and what they do ----------------------------------------------------
_SUBJ = (
    rf"(?:(?:\bmy |(?<=\band )|^)(?P<r>{_ROLE}),? (?P<n>{NAME}),?"
    rf"|\b(?P<n2>{NAME}),? [-–—(]?\s*my (?P<r2>{_ROLE})\s*[-–—)]?,?"
    rf"|\b(?:my|our) (?:[a-z]+ )?(?:{_PARTNER}|{_CHILD}|{SPECIES}),? (?P<n4>{NAME}),?"
    rf"|\bmy (?P<r3>{_ROLE})"
    # "mama is moving ...": a role opening a sentence, its "my" dropped as chat does.
    rf"|(?:^|(?<=[,;:!.] ))(?P<r4>{_ROLE})(?= (?:is|has|just|moved|says|and)\b)"
    rf"|(?:^|(?<=[,;:!.] )|(?<=\band )|(?<=\bbut ))(?P<n3>{NAME}))"
)
# "Anjali and Marco just moved": someone else alongside the subject (never the user).
_ALONG = (
    r"(?: and (?!(?:i|me|we|my|our)\b)(?:(?:his|her|their) [\w'’\-]+(?: (?-i:[A-Z])[\w'’\-]*)?"
    r"|[\w'’\-]+))?"
)
_ADV = r"(?: (?:just|recently|finally|now|also|still|currently|actually))*"


def _who(m: re.Match[str], c: Ctx) -> tuple[str | None, str | None]:
    """(name, role) of the person a third-person match is about, or (None, None)."""
    name = m["n"] or m["n2"] or m["n3"] or m["n4"]
    role = m["r"] or m["r2"] or m["r3"] or m["r4"]
    if name and not _person(name):
        return None, None
    if name and c.prompt.known_as(name) & {"lives_in", "works_at", "visited", "hometown"}:
        return None, None  # a place or employer at the start of a sentence
    if name is None and role:
        # "My brother moved to Lisbon": the brother the prompt's existing facts name.
        relation = ROLES[role.lower()]
        known = {normalise_name(x.object): x.object for x in c.prompt.objects_of(relation)}
        if len(known) != 1:
            return None, None
        name = next(iter(known.values()))
    return name, role


def _about(m: re.Match[str], c: Ctx, predicate: str, obj: str, kind: str, verb: str,
           changed: bool) -> Iterator[Draft]:  # fmt: skip
    name, role = _who(m, c)
    if not name:
        return
    subject = c.subject(name)
    if role and subject != "user" and (m["n"] or m["n2"]):
        yield _link(c, role, name)
    who = c.who if subject == "user" else name
    when = c.date(m, near=changed) or (c.day() if changed else None)
    yield Draft(predicate, obj, f"{who} {verb} {obj}.", subject=subject, object_kind=kind,
                valid_at=when)  # fmt: skip


@rule(
    rf"{_SUBJ}{_ALONG}{_ADV} (?:lives|live|is living|are living|is based|are based|is settled|"
    r"resides|has lived|have lived|has been living)"
    rf"(?: (?:alone|together|nearby|over|still|now|there|with \w+|on (?:her|his|their) own|"
    rf"by (?:her|him|them)sel(?:f|ves)))* in (?P<o>{CAP})"
)
def _other_lives(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield from _about(m, c, "lives_in", m["o"], "place", "lives in", changed=False)


_MAYBE = re.compile(r"\b(?:might|may|maybe|if|thinking|considering|wants?|hopes?)\b", re.I)
_MOVE_TO = rf"(?: back| over| out)? to (?:(?:live )?with )?(?:{NAME} in )?(?P<o>{CAP})"


@rule(rf"{_SUBJ}{_ALONG}{_ADV} (?:has |have )?(?:moved|relocated|made it){_MOVE_TO}")
def _other_moved(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Arjun moved to Mumbai", "Anjali and Marco just moved to Vancouver", "Erik made it
    to Tacoma" (a trip is no move), "mama moved to Marta in Opole" (the place, not Marta)."""
    if TRIP.search(c.sentence):
        return
    yield from _about(m, c, "lives_in", m["o"], "place", "moved to", changed=True)


@rule(rf"{_SUBJ}{_ALONG}{_ADV} (?:is|are|'s|'re) (?:moving|relocating){_MOVE_TO}")
def _other_moving(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "Nils is moving to Stavanger in September": the new home from the day said. Memory
    keeps a fact whose start is to come out of the present until that day; with no day it is
    no fact yet."""
    when = c.date(m, future=True, near=True)
    if when is None or when < c.day() or TRIP.search(c.sentence) or c.asks(m):
        return
    if _MAYBE.search(c.clause(m)):
        return
    name, _ = _who(m, c)
    if not name or c.subject(name) == "user":
        return
    yield Draft("lives_in", m["o"], f"{name} lives in {m['o']}.", subject=c.subject(name),
                object_kind="place", valid_at=when)  # fmt: skip


@rule(rf"{_SUBJ}{_ADV} (?:works|is working|has been working|has worked) (?:at|for) (?P<o>{CAP})")
def _other_works(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    since = bool(re.search(r"\bsince\b", c.clause(m), re.I))
    yield from _about(m, c, "works_at", m["o"], "org", "works at", changed=since)


@rule(
    rf"{_SUBJ}{_ADV} (?:got (?:a|the|a new) job (?:at|with)|started (?:working |a new job )?"
    rf"(?:at|for|with)|joined|was hired by) (?P<o>{CAP})"
)
def _other_joined(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    yield from _about(m, c, "works_at", m["o"], "org", "works at", changed=True)


@rule(rf"(?:\bmy |(?<=\band )|^)(?P<r>{_ROLE}),? (?P<n>{NAME})\b(?! and i\b)")
def _relative(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    # "My sister Maya ..." names a relative even when nothing else about her is said; so
    # does "brother Arjun got into IIT" or "... and son Kuba is 5", where chat drops the "my".
    name = m["n"]
    role = m["r"].lower()
    owned = m.group(0).lower().startswith("my ")
    if (ROLES[role] == "has_child" and owned) or not _person(name) or c.subject(name) == "user":
        return
    if c.prompt.known_as(name) & {"lives_in", "works_at", "visited"}:
        return
    yield _link(c, role, name)


def _known_person(name: str, c: Ctx) -> bool:
    """Whether ``name`` is someone the message gives a role or the memory already knows."""
    key = normalise_name(name)
    roles = re.finditer(rf"\b(?:my|our)\s+(?:[a-z]+\s+)?(?:{_ROLE}|{_PARTNER}|{_CHILD}|{SPECIES})"
                        rf",?\s+{re.escape(name)}\b", c.message, re.I)  # fmt: skip
    named = re.search(rf"\b(?:name is|name['’]s|named|called)\s+{re.escape(name)}\b", c.message)
    return key in c.prompt.people() or any(True for _ in roles) or bool(named)


def _someone(m: re.Match[str], c: Ctx) -> str | None:
    """The person or pet (not the user) a third-person match is about, if surely one."""
    name, _ = _who(m, c)
    if not name or c.subject(name) == "user" or not (m["r"] or m["n4"] or _known_person(name, c)):
        return None
    return name


@rule(
    rf"{_SUBJ}{_ADV} (?:is|turned|just turned|has just turned) (?P<a>\d{{1,3}})"
    r"(?: years?(?: old)?)?"
    r"(?P<t> now\b| today\b| yesterday\b)?"
    r"(?=\s*(?:and\b|but\b|this\b|last\b|[,.;!?)]|$))"
)
def _other_age(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "My daughter Zuzia is 8", "Mochi turned 3 yesterday": a person's or pet's age. A name
    nobody has introduced counts only with a word that says age ("Rory turned 1", "Rory is
    one today"): "Google is 25" could be anything."""
    name = _someone(m, c)
    if name is None:
        birthday = (m["t"] or "").strip().lower() in ("today", "yesterday")
        said = birthday or re.search(r"\b(?:turned|years? old)\b", m.group(0), re.I)
        name, _ = _who(m, c)
        if not (said and name and m["n3"] and c.subject(name) != "user"):
            return
        where = c.prompt.known_as(name) & {"works_at", "studies_at", "lives_in"}
        if int(m["a"]) > 120 or where:
            return  # "Berlin turned 800": no one's age
    turned = "turned" in m.group(0).lower()
    yield Draft("age", m["a"], f"{name} is {m['a']} years old.", subject=name,
                valid_at=c.date(m, near=turned) or (c.day() if turned else None))  # fmt: skip


@rule(
    rf"{_SUBJ}{_ADV} (?:is|works as|became|is working as) (?:an? )?"
    rf"(?P<t>(?:[a-z\-]+ ){{0,2}}(?:{JOBS}))s?\b"
)
def _other_title(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "My wife Anna is a nurse", "Greg's a plumber" (after a pronoun was resolved)."""
    name = _someone(m, c)
    if name is None:
        return
    if re.search(r"\b(?:not|no longer|used to|was)\b", c.clause(m), re.I):
        return
    title = re.sub(r"^(?:a|an|the|such a|really|very|great|good|amazing)\s+", "", m["t"])
    yield Draft("job_title", title, f"{name} works as {article(title)}.", subject=name)
