"""Answer-in-context: normalisation of answers and contexts, list answers, dates by value."""

from __future__ import annotations

import pytest

from memlane.evals.answer_check import answer_in_context, answer_parts, normalise

pytestmark = pytest.mark.unit

CONTEXT = """Known facts (validity):
- [2023-05-08 → now] Caroline went to the LGBTQ support group on 7 May.

From conversations:
- (2023-06-09, session_3) Mel: I ran a charity race! We have four kids; we went to the Beach,
  then the mountains."""


@pytest.mark.parametrize(
    ("answer", "found", "parts"),
    [
        ("May 8, 2023", 1, 1),  # a date in another form
        ("8 May, 2023", 1, 1),
        ("The week before 9 June 2023", 1, 1),  # a relative date: found by its date
        ("June 2023", 1, 1),  # a month holds its days
        ("2023", 1, 1),
        ("2022", 0, 1),
        ("7 May 2023", 0, 1),  # "on 7 May" names no year: not that date
        ("4 kids", 1, 1),  # number words as digits
        ("The charity race.", 1, 1),  # articles, punctuation and case
        ("beach, mountains and forest", 2, 3),  # a list: each part
        ("Likely no", 0, 0),  # nothing to find: not scored
        ("Yes; a charity race", 1, 1),
    ],
)
def test_answer_in_context(answer: str, found: int, parts: int) -> None:
    match = answer_in_context(answer, CONTEXT)
    assert (match.found, match.parts) == (found, parts)
    assert match.complete == (parts > 0 and found == parts)
    assert match.scored == (parts > 0)


def test_normalise_and_parts() -> None:
    assert normalise("The Sunday before 25 May, 2023!") == ["sunday", "before", "2023-05-25"]
    assert normalise("Caroline's two cats") == ["carolines", "2", "cats"]
    assert answer_parts("pottery, camping; swimming") == [["pottery"], ["camping"], ["swimming"]]
