"""Building blocks of the offline model's extraction rules.

A *rule* is a regular expression over one sentence plus a function turning a match into
:class:`Draft` facts. Rules live in topic modules (``self_facts``, ``people``,
``tastes``, ``events``) and register themselves with :func:`rule`.

Sentences are prepared the way a reader would hear them (:func:`prepare`): a clause that
drops its subject ("Just moved to Oslo", "Still vegan") gets its "I" back, and clause
boundaries (";", " - ", ", and I ...") are known, so a date phrase belongs to the clause it
stands in (:meth:`Ctx.date`) rather than to the whole sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from memlane.llm.offline.rules.dates import DateHit, find_dates, strip_dates
from memlane.llm.offline.rules.jobs import JOBS
from memlane.llm.offline.rules.prompt import ParsedPrompt

__all__ = [
    "CAP",
    "EMOJI",
    "FILLER",
    "NAME",
    "OBJ",
    "RULES",
    "TRIP",
    "Ctx",
    "Draft",
    "article",
    "clean",
    "ok",
    "prepare",
    "rule",
    "split_list",
]

# Pictographs: chat ends a sentence with one as often as with a full stop.
EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
# Names are capitalised even though rules match case-insensitively: (?-i:...) keeps case.
_W = r"(?-i:(?!I\b|I'm\b|I've\b|I'd\b|I'll\b)[A-Z][\w'’&\-.]*(?<![.'’])(?<!['’]s))"
# A possessive inside a name is part of it when a capitalised word follows ("Queen's
# Medical Centre", "St John's Wood"); at the end it is the owner's ("Darnell's place").
_POSS = r"(?:['’]s(?=\s+(?-i:[A-Z])))?"
CAP = rf"{_W}{_POSS}(?:\s+(?:of|de|da|del|la|le|the|von|van|&)?\s*{_W}{_POSS})*"  # Bank of America
NAME = rf"{_W}(?:\s+{_W})?"  # Sam, Sam Lee
# Chat interjections: they end a value and are never part of one ("hiking lol").
FILLER = r"lol+|lmf?ao+|rofl|ha(?:ha)+h?|he(?:he)+|k{3,}|xd+|tbh|imo|ngl|fr|rn|omg|idk|tho"
_STOP = (
    r"(?=\s+(?:anymore|any more|now|these days|nowadays|a lot|very much|so much|too|because|"
    r"already|anyway|"
    r"but|since|when|while|and i|and my|every|on weekends|at all|again|lately|recently|"
    rf"honestly|though|as well|by the way|{FILLER})\b|\s+[-–—]\s|[,.;:!?]|$"
    r"|\s*[^\w\s'’\-])"  # an emoji or a bracket ends a value too
)
OBJ = rf"(?P<o>[a-z0-9][\w'’\- ]*?){_STOP}"
_PRONOUNS = {
    "it", "that", "this", "you", "them", "him", "her", "those", "these", "one", "to", "there",
    "here", "everything", "something", "anything", "nothing", "someone", "somebody", "that one",
}  # fmt: skip
_FILLER = re.compile(
    r"^(?:by the way|btw|though|too|as well|honestly|actually|i think|i guess|apparently|so|"
    r"which|but|it|that|just so you know|fyi|lol|haha|now|again)\b",
    re.I,
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
    past: bool = False  # a story about how things were, never a current value
    restates: list[str] = field(default_factory=list)
    contradicts: list[str] = field(default_factory=list)
    corrects: list[str] = field(default_factory=list)

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
            "corrects": self.corrects,
        }


# A trip, not a home: "here in Rome for the weekend", "she's in Paris for work".
TRIP = re.compile(
    r"\b(?:holiday|vacation|trip|visit|visiting|conference|honeymoon|tour|travell?ing|layover|"
    r"for (?:the|a|two|three|few|couple)\b[^.!?]*\b(?:days?|weeks?|nights?|weekend|summer|"
    r"winter|months?)|"
    r"this week|for work|on business)\b",
    re.I,
)

# -- clauses ---------------------------------------------------------------------------------
# Where one clause ends and the next begins. "X and I ..." at a clause start is a compound
# subject, not a boundary, so "and" only splits before a subject that starts a new clause.
_BOUNDARY = re.compile(
    r"\s*[;:]\s+|\s+[-–—]+\s+|,\s+(?:and|but|so|then)?\s*|\s+but\s+"
    r"|(?<=\w)\s+and\s+(?=(?:then\s+)?(?:i|we|my|our|he|she|they)\b)"
    r"|(?<=\w)\s+and\s+(?=(?:just\s+|then\s+)?(?:moved|relocated|joined|took|started|got|"
    r"went|left|quit|switched|adopted|visited|booked|signed|flew|brought|landed|became)\b)",
    re.I,
)
# A clause that drops its subject ("Just moved to Oslo", "Still vegan", "Loving it here").
_ELLIPSIS_I = re.compile(
    r"(?:just|finally|recently|also|then|officially)\s+(?=[a-z]+ed\b|got\b|went\b|left\b|"
    r"took\b|made\b|began\b|came\b|brought\b|bought\b|met\b|flew\b|found\b|quit\b|moved\b)"
    r"|(?=(?:moved|relocated|made it|started|joined|got|took|went|left|quit|switched|adopted|"
    r"visited|booked|signed|found|flew|brought|picked|landed|turned|decided|bought|"
    r"rescued|spent|travell?ed|finished|became|accepted|handed|rented|signed|unpacked)\b)",
    re.I,
)
_ELLIPSIS_IM = re.compile(
    r"(?=still\s+(?!(?:live|work|love|like|eat|have|do|enjoy|go|play)\b))"
    # "currently data analyst at Flipkart", "trauma nurse at Atrium, start sept 11": a title
    # at an employer, with the "I'm" chat drops.
    r"|(?!(?:i|i'm|we|we're|you|he|she|they|it|my|our|his|her|their|this|that|the)\b)"
    rf"(?=(?:currently\s+|now\s+|still\s+)?(?:an?\s+)?(?:[a-z\-]+\s+){{0,3}}(?:{JOBS})s?"
    r"\s+(?:at|for|with)\s+(?-i:[A-Z]))"
    r"|(?=(?:loving|enjoying|living|working|settling|starting|moving|eating|dating|"
    r"back from|home from|off to|heading)\b)",
    re.I,
)
_ELLIPSIS_I_STILL = re.compile(r"(?=still\s+(?:live|work|love|like|eat|have|do|enjoy|go|play)\b)")


def _restore(clause: str) -> str:
    if _ELLIPSIS_IM.match(clause):
        return "I'm " + clause[0].lower() + clause[1:]
    if _ELLIPSIS_I.match(clause) or _ELLIPSIS_I_STILL.match(clause):
        return "I " + clause[0].lower() + clause[1:]
    return clause


def prepare(sentence: str) -> tuple[str, list[tuple[int, int]]]:
    """The sentence with dropped subjects restored, and its clauses as (start, end) spans."""
    pieces: list[str] = []
    last = 0
    for m in _BOUNDARY.finditer(sentence):
        pieces.append(_restore(sentence[last : m.start()]))
        pieces.append(m.group(0))
        last = m.end()
    pieces.append(_restore(sentence[last:]))
    text = "".join(pieces)
    spans, last = [], 0
    for m in _BOUNDARY.finditer(text):
        spans.append((last, m.start()))
        last = m.end()
    spans.append((last, len(text)))
    return text, spans


# -- context ---------------------------------------------------------------------------------
# A clause opened by an auxiliary or a question word, with the subject after it: a question
# even without its question mark ("do you know a good dentist here in Lisbon").
_ASKS = re.compile(
    r"(?:(?:hey|hi|ok|so|and|but|also),? )?(?:is|am|are|was|do|does|did|can|could|should|"
    r"would|will|shall|what|where|when|which|who|how|any|know any|u know)\b(?! (?:a|the)\b)",
    re.I,
)

# A supposition: "what if we got a dog", "imagine I quit", "hypothetically, ..." opening the
# clause or the sentence; or a condition ("if I moved to Berlin") in a sentence that says
# what would follow (would, could, might, should). It says what might be, not what is. A
# discourse "if" with no modal ("if anything I'm busier since I started at X", "if I'm
# honest I live in Leeds now") states what it says.
_LEAD = r"(?:(?:and|but|so|or|just|random q|q),? )?"
_SUPPOSES = re.compile(rf"{_LEAD}(?:what if|suppose|supposing|imagine|hypothetically)\b", re.I)
_CONDITION = re.compile(rf"{_LEAD}(?:if|even if|assuming)\b", re.I)
_MODAL = re.compile(r"\b(?:would|could|might|should)\b|\w['’]d\b", re.I)


@dataclass
class Ctx:
    """What a rule knows besides its match: the sentence, its clauses, the time, the prompt."""

    at: datetime
    who: str  # how statements name the user ("Maya" or "The user")
    sentence: str
    spans: list[tuple[int, int]]
    prompt: ParsedPrompt
    message: str = ""

    @property
    def whom(self) -> str:
        """The user inside a sentence: "the user", or their name."""
        return "the user" if self.who == "The user" else self.who

    def span(self, m: re.Match[str]) -> tuple[int, int]:
        """The clause holding the start of ``m`` (widened to the end of the match)."""
        for start, end in self.spans:
            if start <= m.start() < max(end, start + 1):
                return start, max(end, m.end())
        return 0, len(self.sentence)

    def clause(self, m: re.Match[str]) -> str:
        """The text of the clause holding ``m`` (for guards)."""
        start, end = self.span(m)
        return self.sentence[start:end]

    def asks(self, m: re.Match[str]) -> bool:
        """Whether ``m``'s clause asks rather than tells ("is my salary 60k?", "can you
        recommend a restaurant here in Paris", "am I turning 30 on Friday?"): a question
        states nothing about the user."""
        clause = self.clause(m).strip()
        return clause.endswith("?") or bool(_ASKS.match(clause))

    def supposes(self, m: re.Match[str]) -> bool:
        """Whether ``m``'s clause is a condition or a supposition ("if I moved to Berlin"):
        it states nothing, whatever a rule reads in it."""
        clause = self.clause(m).strip()
        if _SUPPOSES.match(clause) or _SUPPOSES.match(self.sentence.strip()):
            return True
        return bool(_CONDITION.match(clause)) and _MODAL.search(self.sentence) is not None

    def opens_question(self, m: re.Match[str]) -> bool:
        """Whether ``m``'s clause opens as a question ("should I go vegan"): stricter than
        :meth:`asks`, for a statement a run-on question mark closes ("I've been vegetarian
        for ages so it shouldn't be too bad??")."""
        return bool(_ASKS.match(self.clause(m).strip()))

    def _hits(self, future: bool) -> list[DateHit]:
        return find_dates(self.sentence, self.at, future=future)

    def date(
        self, m: re.Match[str], *, future: bool = False, near: bool = False
    ) -> datetime | None:
        """The date said in ``m``'s clause; with ``near``, else the nearest one in the sentence.

        ``near`` suits changes ("Back in 2012, when I worked at Ikea" dates the job to 2012),
        not states, whose date would be borrowed from another event.
        """
        hits = self._hits(future)
        start, end = self.span(m)
        inside = [h for h in hits if start <= h.start < end]
        if inside:
            return inside[0].when
        if not near or not hits:
            return None
        return min(hits, key=lambda h: min(abs(h.start - m.end()), abs(h.end - m.start()))).when

    def day(self) -> datetime:
        """The turn's day (midnight UTC)."""
        return datetime(self.at.year, self.at.month, self.at.day, tzinfo=UTC)

    def subject(self, name: str | None) -> str:
        """``name`` as a fact subject: "user" when it is the user's own name."""
        if not name:
            return "user"
        own = self.prompt.user_name
        return "user" if own and own.casefold() == name.casefold() else name


Rule = Callable[[re.Match[str], Ctx], Iterator[Draft]]
RULES: list[tuple[re.Pattern[str], Rule]] = []


def rule(pattern: str) -> Callable[[Rule], Rule]:
    """Register ``fn`` for sentences matching ``pattern`` (case-insensitive)."""

    def wrap(fn: Rule) -> Rule:
        RULES.append((re.compile(pattern, re.I), fn))
        return fn

    return wrap


# -- small helpers ---------------------------------------------------------------------------
def clean(raw: str | None) -> str:
    """An object phrase without dates, leading articles or trailing time adverbs."""
    text = strip_dates(raw or "")
    text = re.sub(r"^(?:the|a|an|my|some|our)\s+", "", text.strip(), flags=re.I)
    text = re.sub(r"[^\w\s'’\-.,&]+.*$", "", text)  # from an emoji on
    text = re.sub(
        rf"(?:\s+(?:now|again|anymore|any more|too|as well|these days|lately|recently|there|"
        rf"already|anyway|still|honestly|though|"
        rf"{FILLER}))+$",
        "",
        text,
        flags=re.I,
    )
    return text.strip(" ,.;:!?'\"-")


def ok(obj: str) -> bool:
    """Whether ``obj`` is worth a fact (not empty, not a pronoun, not a paragraph)."""
    return bool(obj) and obj.lower() not in _PRONOUNS and len(obj) <= 80


def split_list(raw: str) -> list[str]:
    """Items of "A, B and C", stopping at an aside (", by the way", ", honestly")."""
    items: list[str] = []
    for part in re.split(r",\s*", raw):
        # An aside, a long clause or a question ("penicillin, is amoxicillin ok?") ends it.
        if _FILLER.match(part.strip()) or len(part.split()) > 5 or _ASKS.match(part.strip()):
            break
        items += [clean(x) for x in re.split(r"^(?:and|or)\s+|\s+and\s+|\s+or\s+", part)]
    return [p for p in items if ok(p)]


def article(noun: str) -> str:
    """``noun`` with "a" or "an"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
