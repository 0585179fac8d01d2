"""Offline extraction rules for pay: "i earn 9500 zł", "im making 78k now", "they pay 78k",
"salary 18 000", and the figure of a new job ("senior engineer, 62k euro per year").

The amount is stored as said (figure, thousands mark, currency and period), since that is
what a person would repeat back; ``salary`` is functional, so a new amount closes the old.
A pay of the future ("it'll be 86k there") is the new job's business and is left alone;
"58k instead of 74k" says the new figure and the old one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from memlane.llm.offline.rules.clauses import Ctx, Draft, rule
from memlane.llm.offline.rules.self_facts import hired, job_start

__all__ = ["AMOUNT", "amount"]

_CURRENCY = (
    r"zł|zl|pln|eur|euros?|€|usd|dollars?|bucks|reais|brl|gbp|pounds?|quid|aud|cad|chf|sek|nok|"
    r"dkk|inr|lakhs?|rupees"
)
_PERIOD = r"(?:a|per|/|an) ?(?:year|yr|annum|month|mo|week|wk|hour|hr)"


def amount(group: str = "a") -> str:
    """A sum of money as chat writes it, captured as ``group``: "9500 zł brutto", "78k",
    "14 000", "€45,000 a year", "22 mil reais per month"."""
    return (
        rf"(?P<{group}>(?:[$€£]\s?)?(?:\d{{1,3}}(?:[ ,.]\d{{3}})+|\d+(?:[.,]\d+)?\s?k\b|"
        rf"\d+\s?mil\b|\d{{4,7}})(?:\s?(?:{_CURRENCY})\b)?"
        rf"(?:\s(?:brutto|gross|net|netto|before tax|after tax))?(?:\s{_PERIOD})?)"
    )


AMOUNT = amount()
_FUTURE = re.compile(r"\b(?:will|'ll|going to|would|could|might|if|ask for|expect)\b", re.I)


def _pay(c: Ctx, amount: str, when: object = None) -> Draft:
    value = re.sub(r"\s+", " ", amount).strip(" ,.")
    return Draft("salary", value, f"{c.who} earns {value}.", valid_at=when)  # type: ignore[arg-type]


def _money_like(value: str) -> bool:
    """Whether a figure reads as money by itself (a currency, "k", a period, "14 000")."""
    return bool(re.search(rf"{_CURRENCY}|{_PERIOD}|brutto|gross|net|[$€£]|\dk\b|\d[ ,.]\d{{3}}",
                          value, re.I))  # fmt: skip


@rule(
    r"\b(?:i|i'm|i am)(?: now| currently| still)? (?:earn|earning|make|making|receive|get paid|"
    rf"take home|bring in|on)(?: about| around| like| only)? {amount('a')}"
    r"|\b(?:my )?(?:salary|pay|wage|income)"
    r"(?: is| was raised to|'s| went up to| rose to| got bumped to| jumped to)?(?: now)?"
    rf"(?: about| around| like)?\s*[:=]?\s*{amount('a2')}"
    rf"|\b(?:they|it|the job|the company)(?: are|'re|'s| is)? (?:pays?|paying|offers?|offering|"
    rf"offered)(?: me)?(?: about| like)? "
    rf"{amount('a3')}"
)
def _salary(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    group = "a" if m["a"] else "a2" if m["a2"] else "a3"
    start, _ = c.span(m)
    before = c.sentence[start : m.start(group)]
    after = c.sentence[m.end(group) : m.end(group) + 20]
    if _FUTURE.search(before) or re.search(r"\b(?:used to|was|back when)\b", before, re.I):
        return
    if c.asks(m):
        return  # "is my salary 60k a year?"
    if m["a3"] and re.search(r"\boffer", m.group(0), re.I) and not hired(c):
        return  # "they offered me 60k, should I accept?": an offer nobody took
    if re.search(r"\b(?:spend|spent|cost|costs|saved|save|budget)\b", before, re.I) or re.match(
        r"\s*(?:for|on|in|of|a day|calories|steps|words|people|times)\b", after, re.I
    ):
        return  # "I paid 4000 for the car", "I make 2000 calories a day": money, not pay
    if not (_money_like(m[group]) or m["a2"]):
        return  # "I make 2000": a bare figure is pay only after "salary" / "pay"
    raised = re.search(r"\b(?:went up|rose|raised|bumped|jumped)\b", m.group(0), re.I)
    changed = bool(hired(c) or re.search(r"\bpromot", c.message, re.I) or raised)
    when = (job_start(c) or c.date(m, near=True) or c.day()) if changed else c.date(m)
    yield _pay(c, m[group], when)


@rule(rf"{AMOUNT} instead of (?P<old>\S+)")
def _instead(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "took the new job, pay is less, 58k instead of 74k": the new pay."""
    if re.search(r"\b(?:pay|salary|paid|earn|job|wage)\b", c.sentence, re.I):
        yield _pay(c, m["a"], job_start(c) or c.day())


@rule(rf"(?:^|(?<=[,;:] )){AMOUNT}(?=\s*(?:[,.;:!?]|$))")
def _offer_figure(m: re.Match[str], c: Ctx) -> Iterator[Draft]:
    """ "got the offer, senior engineer, 62k euro per year.": a clause that is only a figure
    with a currency or a period, in a message about being hired, is the new pay."""
    if not hired(c):
        return
    if not re.search(rf"(?:{_CURRENCY}|{_PERIOD}|brutto|gross|[$€£]|k\b)", m["a"], re.I):
        return  # a bare number could be anything
    yield _pay(c, m["a"], job_start(c) or c.day())
