"""Query reading: past questions, named dates, entity n-grams, episode index text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memlane.memory_graph.model import Episode
from memlane.memory_graph.predicates import default_registry
from memlane.memory_graph.retrieval.query import (
    asks_about_past,
    date_window,
    episode_index_text,
    name_ngrams,
    predicate_hints,
    words_of,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("query", "past"),
    [
        ("Where do I live?", False),
        ("What is my job", False),
        ("Where did I use to live?", False),  # "use to" without "d" is not matched ...
        ("Where did I used to live?", True),  # ... but the common spelling is
        ("What did I do before moving here?", True),
        ("Where was I working previously?", True),
        ("What did I eat last year?", True),
        ("What did Caroline do in 2022?", True),
        ("When did Melanie paint a sunrise?", True),
        ("I moved two years ago", True),
        ("Do I still eat meat or not anymore?", True),
        ("What does my sister like?", False),
    ],
)
def test_past_detection(query: str, past: bool) -> None:
    assert asks_about_past(query) is past


def d(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "inside", "outside"),
    [
        ("Where did Joanna travel in July 2022?", d(2022, 7, 20), d(2022, 9, 1)),
        ("What happened on 8 May, 2023?", d(2023, 5, 9), d(2023, 6, 1)),
        ("Which book on 8th December, 2023?", d(2023, 12, 10), d(2023, 11, 1)),
        ("What did we do on May 8, 2023", d(2023, 5, 8), d(2023, 7, 8)),
        ("notes from 2023-05", d(2023, 5, 30), d(2023, 8, 1)),
        ("What did I do in 2021?", d(2021, 6, 1), d(2022, 3, 1)),
    ],
)
def test_date_window(query: str, inside: datetime, outside: datetime) -> None:
    window = date_window(query)
    assert window is not None
    assert window[0] <= inside < window[1]
    assert not window[0] <= outside < window[1]


@pytest.mark.parametrize("query", ["where do I live", "on 31 February, 2023 ?", "room 2023"])
def test_no_date_window(query: str) -> None:
    assert date_window(query) is None


def test_name_ngrams_skip_stopwords_and_keep_possessive_owner() -> None:
    grams = name_ngrams("What is Caroline's favourite New York bakery?")
    assert "New York" in grams and "Caroline" in grams
    assert "What is" not in grams and "is" not in grams


def test_episode_index_text_has_speaker_and_previous_turn() -> None:
    t = datetime(2023, 1, 1, tzinfo=UTC)
    a = Episode(
        id="a",
        user_id="u",
        session_id="s",
        speaker="Mel",
        content="Where to?",
        occurred_at=t,
        recorded_at=t,
    )
    b = Episode(
        id="b",
        user_id="u",
        session_id="s",
        speaker="Caro",
        content="Berlin!",
        occurred_at=t,
        recorded_at=t,
    )
    other = b.model_copy(update={"session_id": "s2"})
    assert episode_index_text(b, a) == "Mel: Where to?\nCaro: Berlin!"
    assert episode_index_text(other, a) == "Caro: Berlin!"
    assert episode_index_text(a) == "Mel: Where to?"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("where does my sister live", {"has_sibling", "lives_in"}),
        ("Where do I work?", {"works_at"}),
        ("what is my job", {"job_title"}),
        ("What did Melanie paint?", set()),
        # Antonyms name the predicate they negate (dislikes is stored as likes, negative).
        ("What food does Mel dislike?", {"likes"}),
        ("which sports does she hate", {"likes"}),
        ("Does Mel dislikes olives", {"likes"}),
        ("what does she love", {"likes"}),
    ],
)
def test_predicate_hints(query: str, expected: set[str]) -> None:
    from memlane.memory_graph.predicates import default_registry
    from memlane.memory_graph.retrieval.query import predicate_hints, words_of

    assert predicate_hints(words_of(query), default_registry()) == expected


@pytest.mark.parametrize(
    ("query", "hinted"),
    [
        ("where was she living in 2021?", {"lives_in"}),
        ("what does Grant do?", {"job_title", "works_at"}),
        ("what did he do for a living?", {"job_title", "works_at"}),
        ("where does his mum live?", {"has_parent", "lives_in"}),
        ("what do you do with leftover rice?", set()),
    ],
)
def test_question_words_name_predicates(query: str, hinted: set[str]) -> None:
    assert predicate_hints(words_of(query), default_registry()) == hinted
