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


@pytest.mark.parametrize("predicate", ["note", "related_to"])
async def test_a_catch_all_fact_is_its_statement_not_only_its_object(
    memory: Memory, predicate: str
) -> None:
    """ "Fintan is my colleague", later "Fintan is now my manager": one object, two facts (the
    second was taken for a restatement of the first and lost); the same words again merge."""

    def said(statement: str, valid_at: str | None) -> FactDraft:
        return FactDraft(
            predicate=predicate,
            object="Fintan",
            object_kind="person",
            statement=statement,
            valid_at=valid_at,
        )

    await memory.commit("u1", [said("Fintan is the user's colleague", "2023-12-14")])
    await memory.commit("u1", [said("Fintan is the user's manager", "2024-01-01")])
    await memory.commit("u1", [said("Fintan is the user's manager", None)])
    facts = await memory.facts("u1", predicate=predicate)
    assert sorted(f.statement for f in facts) == [
        "Fintan is the user's colleague",
        "Fintan is the user's manager",
    ]
    # Its negation closes the one it denies, not the other.
    await memory.commit(
        "u1",
        [
            FactDraft(
                predicate=predicate,
                object="Fintan",
                object_kind="person",
                polarity="negative",
                statement="Fintan isn't the user's colleague any more",
                valid_at="2024-02-01",
            )
        ],
    )
    current = await memory.facts("u1", predicate=predicate, current_only=True)
    assert sorted((f.statement, f.polarity) for f in current) == [
        ("Fintan is the user's manager", "positive"),
        ("Fintan isn't the user's colleague any more", "negative"),
    ]


async def test_a_note_said_again_with_filler_is_the_same_note(memory: Memory) -> None:
    from memlane.tools.commands import remember

    first = await remember(memory, "u1", "My locker code is 4512 lol")
    again = await remember(memory, "u1", "my locker code is 4512 lol")
    assert again.fact.id == first.fact.id
