"""Two writers of one user's memory that share nothing but the store (as two replicas over
one graph server do) never leave two current values of a functional predicate.

Each writer is its own ``Memory`` (its own in-process lock); the store holds every write set
at the door until both writers have reconciled, so both derive theirs from the same graph:
the interleaving that loses on a store without conditional writes, every time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode, FactQuery, WriteSet
from memlane.memory_graph.stores import GraphStore

pytestmark = pytest.mark.integration


def _lives_in(city: str) -> FactDraft:
    return FactDraft(
        predicate="lives_in",
        object=city,
        object_kind="place",
        statement=f"I live in {city}",
        kind="fact",
    )


def _episode(user: str, n: int, city: str) -> Episode:
    at = datetime(2024, 5, 1, 12, 0, n, tzinfo=UTC)
    return Episode(
        id=f"ep{n}", user_id=user, content=f"I live in {city}.", occurred_at=at, recorded_at=at
    )


def _hold_first_writes(store: GraphStore, writers: int) -> None:
    """Make the store's first ``writers`` applies wait for each other (later ones do not)."""
    door = asyncio.Barrier(writers)
    real = store.apply
    held = 0

    async def apply(writes: WriteSet) -> None:
        nonlocal held
        if held < writers:
            held += 1
            await door.wait()
        await real(writes)

    store.apply = apply  # type: ignore[method-assign]


async def test_conflicting_turns_of_two_writers_leave_one_current_value(
    store: GraphStore,
) -> None:
    one, two = (Memory(store, HashEmbedder(64)) for _ in range(2))
    _hold_first_writes(store, 2)
    await asyncio.gather(
        one.commit("ada", [_lives_in("Oslo")], [_episode("ada", 1, "Oslo")]),
        two.commit("ada", [_lives_in("Rome")], [_episode("ada", 2, "Rome")]),
    )
    facts = await store.find_facts("ada", FactQuery(predicate="lives_in"))
    current = [f for f in facts if f.is_current]
    assert len(current) == 1, [f.statement for f in current]
    assert sorted(f.statement for f in facts) == ["I live in Oslo", "I live in Rome"]
    assert len(await store.get_episodes("ada", ["ep1", "ep2"])) == 2
