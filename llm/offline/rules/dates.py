"""Relative and absolute date phrases, resolved against the time a message was said.

Used by the offline model to do what a real model is asked to do in the extraction prompt:
"last month", "two years ago", "next Friday", "in 2019" become dates.

Conventions (a real model would pick similar ones): "last month" / "last year" mean the first
day of that month / year; "N months ago" keeps the day; "next Friday" is the first Friday
after the turn's day; a bare month ("in May") is the latest May not after the turn, or the
next May for plans.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = ["DateHit", "find_date", "find_dates", "shift_months", "strip_dates"]

_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "a few": 3,
    "several": 3,
}
_WEEKDAYS = [d.lower() for d in calendar.day_name]
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9

_NUM = r"(?P<n>\d+|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?P<weekday>" + "|".join(_WEEKDAYS) + r")"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ago", re.compile(rf"\b{_NUM}\s+{_UNIT}\s+ago\b", re.I)),
    # "I've been vegetarian for five years": a state that began that long ago. Only after a
    # present perfect (see _PERFECT): "I lived in Paris for five years" is a past period.
    ("for_n", re.compile(rf"\bfor\s+(?:the\s+(?:past|last)\s+)?{_NUM}\s+{_UNIT}\b", re.I)),
    ("in_n", re.compile(rf"\bin\s+{_NUM}\s+{_UNIT}\b", re.I)),
    (
        "rel_weekday",
        re.compile(rf"\b(?P<dir>next|last|this past|this|on|past)\s+{_WEEKDAY}\b", re.I),
    ),
    ("weekend", re.compile(r"\b(?:last|this past|over the|on the)\s+weekend\b", re.I)),
    ("rel_unit", re.compile(r"\b(?P<dir>next|last|this)\s+(?P<unit>week|month|year)\b", re.I)),
    (
        "month_day",
        re.compile(
            rf"\b(?:on\s+)?{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?"
            r"(?:,?\s+(?P<year>\d{4}))?\b",
            re.I,
        ),
    ),
    (
        "day_month",
        re.compile(
            rf"\b(?:on\s+|for\s+)?(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            rf"{_MONTH}(?:,?\s+(?P<year>\d{{4}}))?\b",
            re.I,
        ),
    ),
    (
        "month_year",
        re.compile(rf"\b(?:back in|in|since|from)\s+{_MONTH}(?:\s+(?P<year>\d{{4}}))?\b", re.I),
    ),
    (
        "year",
        re.compile(
            r"\b(?:in|since|from|back in|during|around|until|remembering|of)\s+"
            r"(?P<year>(?:19|20)\d{2})\b(?!\s*(?:%|people|steps|times))",
            re.I,
        ),
    ),
    ("iso", re.compile(r"\b(?:on\s+)?(?P<iso>\d{4}-\d{2}-\d{2})\b")),
    (
        "word",
        re.compile(
            r"\b(?P<word>yesterday|today|tomorrow|tonight|last night|just now|this (?:morning|"
            r"afternoon|evening))\b",
            re.I,
        ),
    ),
]


@dataclass(frozen=True)
class DateHit:
    """A date phrase found in a text: where it is and the day it means."""

    start: int
    end: int
    when: datetime
    text: str


def _day(dt: datetime) -> datetime:
    return datetime(dt.year, dt.month, dt.day, tzinfo=UTC)


def shift_months(dt: datetime, months: int) -> datetime:
    """``dt`` moved by whole months, the day clamped to the target month's length."""
    index = dt.year * 12 + (dt.month - 1) + months
    year, month = divmod(index, 12)
    day = min(dt.day, calendar.monthrange(year, month + 1)[1])
    return dt.replace(year=year, month=month + 1, day=day)


def _count(raw: str) -> int:
    raw = raw.lower()
    return int(raw) if raw.isdigit() else _NUMBERS.get(raw, 1)


def _shift(now: datetime, n: int, unit: str) -> datetime:
    unit = unit.lower()
    if unit == "day":
        return now + timedelta(days=n)
    if unit == "week":
        return now + timedelta(weeks=n)
    if unit == "month":
        return shift_months(now, n)
    return shift_months(now, 12 * n)


def _resolve(kind: str, m: re.Match[str], now: datetime, future: bool) -> datetime | None:
    today = _day(now)
    g = m.groupdict()
    if kind in ("ago", "for_n"):
        return _shift(today, -_count(g["n"]), g["unit"])
    if kind == "in_n":
        return _shift(today, _count(g["n"]), g["unit"])
    if kind == "rel_weekday":
        target = _WEEKDAYS.index(g["weekday"].lower())
        direction = g["dir"].lower()
        if direction in {"last", "this past", "past"} or (direction == "on" and not future):
            back = (today.weekday() - target) % 7 or 7
            return today - timedelta(days=back)
        ahead = (target - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    if kind == "weekend":  # the Saturday of the last weekend that is over
        back = (today.weekday() - 5) % 7
        return today - timedelta(days=back + 7 if back < 2 else back)
    if kind == "rel_unit":
        direction, unit = g["dir"].lower(), g["unit"].lower()
        step = {"next": 1, "last": -1, "this": 0}[direction]
        if unit == "week":
            return today + timedelta(weeks=step)
        if unit == "month":
            return shift_months(today.replace(day=1), step)
        return today.replace(year=today.year + step, month=1, day=1)
    if kind in {"month_day", "day_month", "month_year"}:
        month = _MONTHS[g["month"].lower().rstrip(".")]
        day = int(g.get("day") or 1)
        if g.get("year"):
            year = int(g["year"])
        elif future:
            year = today.year if (month, day) >= (today.month, today.day) else today.year + 1
        else:
            year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
        try:
            return datetime(year, month, day, tzinfo=UTC)
        except ValueError:
            return None
    if kind == "year":
        return datetime(int(g["year"]), 1, 1, tzinfo=UTC)
    if kind == "iso":
        try:
            return datetime.fromisoformat(g["iso"]).replace(tzinfo=UTC)
        except ValueError:
            return None
    word = g["word"].lower()
    offset = {"yesterday": -1, "last night": -1, "tomorrow": 1}.get(word, 0)
    return today + timedelta(days=offset)


_PERFECT = re.compile(
    r"(?:'ve|\bhave|\bhas|\bhad)\s+(?:\w+\s+)?(?:been|had|lived|worked|known|"
    r"owned|played|studied|used|done|kept|run|taught)\b",
    re.I,
)


def _sentence_before(text: str, end: int) -> str:
    """The part of ``text``'s sentence that comes before ``end``."""
    start = max(text.rfind(p, 0, end) for p in ".!?;")
    return text[start + 1 : end]


# A month or weekday said after these words is ahead of the turn, not behind it: "from July
# I'm head chef", "I start Sept 11", "it's due in March", "I'll be there on Friday".
_AHEAD = re.compile(
    r"\b(?:from|starting|start|starts|begin|begins|beginning|until|till|due|next|will|"
    r"going to|gonna|planning|plan to|hoping to|about to|soon|moving|relocating)\b|['’]ll\b",
    re.I,
)
_CALENDAR = {"month_day", "day_month", "month_year", "rel_weekday"}


def _ahead(text: str, start: int, said: str) -> bool:
    """Whether the clause up to the date phrase ``said`` speaks of what is still to come."""
    before = _sentence_before(text, start) + " " + said
    clause = re.split(r",|\band\b|\bbut\b", before)[-1]
    return bool(_AHEAD.search(clause))


def find_dates(text: str, now: datetime, *, future: bool = False) -> list[DateHit]:
    """Every date phrase in ``text`` resolved against ``now``, in order, none overlapping."""
    hits: list[DateHit] = []
    for kind, pattern in _PATTERNS:  # earlier patterns are the more specific ones
        for m in pattern.finditer(text):
            if any(h.start < m.end() and m.start() < h.end for h in hits):
                continue
            if kind == "for_n" and not _PERFECT.search(_sentence_before(text, m.start())):
                continue
            ahead = future or (kind in _CALENDAR and _ahead(text, m.start(), m.group(0)))
            when = _resolve(kind, m, now, ahead)
            if when is not None:
                hits.append(DateHit(m.start(), m.end(), when, m.group(0)))
    return sorted(hits, key=lambda h: h.start)


def find_date(text: str, now: datetime, *, future: bool = False) -> DateHit | None:
    """The first date phrase in ``text`` resolved against ``now`` (None if there is none)."""
    hits = find_dates(text, now, future=future)
    return hits[0] if hits else None


def strip_dates(text: str) -> str:
    """``text`` without its date phrases (so "Berlin last month" reads "Berlin")."""
    for _, pattern in _PATTERNS:
        text = pattern.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()
