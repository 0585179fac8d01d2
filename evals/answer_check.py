"""Answer-in-context: does a rendered memory context contain a gold answer? No LLM.

A proxy for "could a reader answer from this context": the gold answer, normalised (case,
punctuation, articles; numbers as digits; dates in any common form as one ISO form), must
appear in the normalised context. A list answer ("pottery, camping, swimming") is split into
parts; the answer counts as in the context when every part is, and the share of parts found
is reported too. A part that names a date is found by its date alone: "the week before
9 June 2023" is in the context when 2023-06-09 is (the relative words are the reader's
arithmetic from a message's date). Yes/no words carry nothing to find and are dropped; an
answer left with no part is not scored.

It undercounts answers a reader must infer or paraphrase ("Likely no", "last year" for
2022), so it is a floor on answerability, not an accuracy.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

__all__ = ["AnswerMatch", "answer_in_context", "answer_parts", "normalise"]

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_MON = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th)?"
_DMY = re.compile(rf"\b(\d{{1,2}}){_ORD}\s+(?:of\s+)?({_MON})\.?,?\s+(\d{{4}})\b", re.I)
_MDY = re.compile(rf"\b({_MON})\.?\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})\b", re.I)
_MY = re.compile(rf"\b({_MON})\.?,?\s+(\d{{4}})\b", re.I)
_ISO = re.compile(r"\b(\d{4})-(\d{2})(?:-(\d{2}))?\b")
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_NUMBERS = {w: str(i) for i, w in enumerate(_NUMBER_WORDS.split())}
_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100"})
_ARTICLES = frozenset({"a", "an", "the"})
_EMPTY_WORDS = frozenset({"yes", "no", "likely", "probably", "maybe", "possibly", "not"})
_DATE_TOKEN = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")
_YEAR_TOKEN = re.compile(r"^(?:19|20)\d\d$")


def _iso(year: str, month: int, day: str | None = None) -> str:
    if day is None:
        return f" {int(year):04d}-{month:02d} "
    if not 1 <= int(day) <= 31 or not 1 <= month <= 12:
        return f" {year} "
    return f" {int(year):04d}-{month:02d}-{int(day):02d} "


def _dates_to_iso(text: str) -> str:
    text = _DMY.sub(lambda m: _iso(m[3], _MONTHS[m[2].lower()], m[1]), text)
    text = _MDY.sub(lambda m: _iso(m[3], _MONTHS[m[1].lower()], m[2]), text)
    text = _MY.sub(lambda m: _iso(m[2], _MONTHS[m[1].lower()]), text)
    return _ISO.sub(lambda m: _iso(m[1], int(m[2]), m[3]), text)


def normalise(text: str) -> list[str]:
    """Tokens of ``text``: lower case, dates as ``YYYY-MM-DD``/``YYYY-MM``, number words as
    digits, punctuation and articles dropped."""
    out: list[str] = []
    for raw in _dates_to_iso(text.lower()).split():
        if _DATE_TOKEN.match(raw):
            out.append(raw)
            continue
        for token in re.sub(r"[^\w\s]|_", " ", raw.replace("'", "")).split():
            token = _NUMBERS.get(token, token)
            if token not in _ARTICLES:
                out.append(token)
    return out


def answer_parts(answer: str) -> list[list[str]]:
    """The normalised parts of a gold answer that a context must hold (see module doc)."""
    parts: list[list[str]] = []
    for raw in re.split(r"[;,]|\band\b", _dates_to_iso(answer)):
        tokens = normalise(raw)
        if tokens and not all(t in _EMPTY_WORDS for t in tokens):
            parts.append(tokens)
    return parts


@dataclass(frozen=True)
class AnswerMatch:
    """How much of a gold answer a context holds."""

    parts: int
    found: int

    @property
    def scored(self) -> bool:
        return self.parts > 0

    @property
    def complete(self) -> bool:
        return self.parts > 0 and self.found == self.parts


def _has_part(part: list[str], text: str, dates: set[str]) -> bool:
    wanted = [t for t in part if _DATE_TOKEN.match(t) or _YEAR_TOKEN.match(t)]
    if wanted:
        # A month or year is in the context when a date inside it is.
        return all(
            any(d == w or d.startswith(w + "-") for d in dates) or w in dates for w in wanted
        )
    return f" {' '.join(part)} " in text


def answer_in_context(answer: str, context: str) -> AnswerMatch:
    """How many parts of ``answer`` appear in ``context`` (both normalised)."""
    parts = answer_parts(answer)
    tokens = normalise(context)
    text = f" {' '.join(tokens)} "
    dates = {t for t in tokens if _DATE_TOKEN.match(t)}
    dates |= {t[:4] for t in dates} | {t for t in tokens if _YEAR_TOKEN.match(t)}
    found = sum(_has_part(p, text, dates) for p in parts)
    return AnswerMatch(parts=len(parts), found=found)
