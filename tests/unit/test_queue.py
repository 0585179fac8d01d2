"""The per-user write queue: order per user, settle (read-your-writes), failures kept."""

from __future__ import annotations

import asyncio

import pytest

from memlane.agent.queue import WriteQueue
from memlane.memory_graph.errors import MemlaneError

pytestmark = pytest.mark.unit


async def test_settle_waits_for_one_users_writes_only_and_is_bounded() -> None:
    queue = WriteQueue()
    gate = asyncio.Event()
    done: list[str] = []

    async def write(name: str, wait: bool = False) -> str:
        if wait:
            await gate.wait()
        done.append(name)
        return name

    queue.submit("a", lambda: write("a1"))
    queue.submit("a", lambda: write("a2"))
    queue.submit("b", lambda: write("b1", wait=True))
    assert await queue.settle("a", 1.0) is True
    assert done == ["a1", "a2"]  # a's writes, in order; b's is still waiting
    assert await queue.settle("b", 0.05) is False  # bounded: b's write is stuck
    assert await queue.settle("nobody", 0.0) is True
    gate.set()
    assert await queue.settle("b", 1.0) is True and done[-1] == "b1"
    await queue.close()
    assert queue.status()["done"] == 3


async def test_a_failed_write_is_kept_and_the_closed_queue_refuses_more() -> None:
    queue = WriteQueue()

    async def boom() -> None:
        raise MemlaneError("store down", where="test")

    queue.submit("a", boom, label="turn 1")
    assert await queue.settle("a", 1.0) is True  # settled: finished, if badly
    (failure,) = queue.failures("a")
    assert (failure.label, failure.message) == ("turn 1", "test: store down")
    await queue.close()
    with pytest.raises(MemlaneError, match="closed"):
        queue.submit("a", boom)
