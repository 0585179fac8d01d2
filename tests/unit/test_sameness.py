"""Sameness of values for one subject and predicate (issue 11): a table of pairs that must
and must not be one value, through the reconciler and the SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import value_key
from memlane.memory_graph.stores import open_store

pytestmark = pytest.mark.unit

SAME = [
    ("hiking lol", "hiking"),
    ("Hiking", "hiking"),
    ("the gym", "gym"),
    ("sushi tbh", "Sushi"),
    ("climbing haha", "climbing"),
    ("Gdańsk", "Gdansk"),
    ("yoga these days", "yoga"),
]
DIFFERENT = [
    ("Paris", "Paris, Texas"),
    ("hiking", "hiking boots"),
    ("tea", "green tea"),
    ("vegan", "vegetarian"),
    ("New York", "York"),
    ("lol", "hiking"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_must_merge(a: str, b: str) -> None:
    assert value_key(a) == value_key(b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_must_not_merge(a: str, b: str) -> None:
    assert value_key(a) != value_key(b)


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    async with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        yield Memory(store, HashEmbedder())


async def test_a_negation_closes_the_value_said_with_filler(memory: Memory) -> None:
    """ "likes hiking lol", then "I can't stand hiking": one value, so the newer closes it."""
    await memory.commit(
        "u1",
        [
            FactDraft(
                predicate="likes",
                object="hiking lol",
                statement="I like hiking lol",
                valid_at="2024-01-01",
            )
        ],
    )
    await memory.commit(
        "u1",
        [
            FactDraft(
                predicate="likes",
                object="hiking",
                polarity="negative",
                statement="I can't stand hiking",
                valid_at="2024-03-01",
            )
        ],
    )
    current = await memory.facts("u1", predicate="likes", current_only=True)
    assert [(f.value, f.polarity) for f in current] == [("hiking", "negative")]


async def test_a_qualified_place_is_another_value(memory: Memory) -> None:
    await memory.commit(
        "u1",
        [
            FactDraft(
                predicate="visited",
                object="Paris",
                statement="I went to Paris",
                valid_at="2024-01-01",
            ),
            FactDraft(
                predicate="visited",
                object="Paris, Texas",
                statement="and Paris, Texas",
                valid_at="2024-02-01",
            ),
        ],
    )
    assert len(await memory.facts("u1", predicate="visited")) == 2
