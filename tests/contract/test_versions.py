"""Contract: a user's write version, and conditional write sets (``WriteSet.if_version``).

What lets several processes (replicas over one graph server) write one user's memory: a
write set derived from a read lands only if nobody wrote that user in between.
"""

from __future__ import annotations

import dataclasses

import pytest

from memlane.memory_graph.errors import ConflictError
from memlane.memory_graph.stores import GraphStore
from tests.conftest import Sample

pytestmark = pytest.mark.contract


async def test_every_write_changes_the_version_and_only_the_users(
    store: GraphStore, sample: Sample
) -> None:
    assert await store.write_version("alice") == ""
    await store.apply(sample.turn("alice", 1))
    first = await store.write_version("alice")
    assert first != ""
    assert await store.write_version("bob") == ""
    await store.apply(sample.turn("bob", 1))
    assert await store.write_version("alice") == first
    await store.apply(sample.turn("alice", 2))
    second = await store.write_version("alice")
    assert second not in ("", first)
    await store.delete_facts("alice", ["f1_0"])
    assert await store.write_version("alice") not in ("", first, second)
    await store.forget_user("alice")
    assert await store.write_version("alice") == ""


async def test_a_write_set_of_a_stale_version_writes_nothing(
    store: GraphStore, sample: Sample
) -> None:
    before = await store.write_version("alice")
    await store.apply(dataclasses.replace(sample.turn("alice", 1), if_version=before))
    seen = await store.write_version("alice")
    # Another writer lands in between; the write set derived from `seen` is now stale.
    await store.apply(sample.turn("alice", 2))
    now = await store.write_version("alice")
    stale = dataclasses.replace(sample.turn("alice", 3), if_version=seen)
    with pytest.raises(ConflictError):
        await store.apply(stale)
    assert await store.get_facts("alice", ["f3_0"]) == []
    assert await store.get_episodes("alice", ["ep3"]) == []
    assert await store.write_version("alice") == now
    # Read again, derive again: it lands.
    await store.apply(dataclasses.replace(stale, if_version=now))
    assert [f.id for f in await store.get_facts("alice", ["f3_0"])] == ["f3_0"]


async def test_the_first_write_of_a_user_may_be_conditional(
    store: GraphStore, sample: Sample
) -> None:
    # Two writers both read "" for a new user: the first lands, the second is refused.
    first = dataclasses.replace(sample.turn("carol", 1), if_version="")
    second = dataclasses.replace(sample.turn("carol", 2), if_version="")
    await store.apply(first)
    with pytest.raises(ConflictError):
        await store.apply(second)
    assert await store.counts("carol") == {"episodes": 1, "entities": 1, "facts": 3}
