"""The library leaves its host process as it found it: BLAS thread limits stay the host's
through concurrent recalls, and a blocking embedding runs off the event loop, so a server's
other requests are served meanwhile."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from memlane.app.server import create_app
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import GraphStore, open_store
from tests.tools_support.seed import StepClock, seed_user

pytestmark = pytest.mark.unit


class GatedEmbedder(HashEmbedder):
    """Blocks (as a model does, synchronously) on texts naming ``marker`` until ``gate`` opens.

    The wait is bounded so that code embedding on the event loop fails the test's ordering
    assertion instead of hanging the run.
    """

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.waiting = False

    def embed(self, texts: list[str]) -> np.ndarray:
        if any(self.marker in t for t in texts):
            self.waiting = True
            self.entered.set()
            self.gate.wait(timeout=20)
            self.waiting = False
        return super().embed(texts)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[GraphStore]:
    graph = open_store(f"sqlite:///{tmp_path / 'host.db'}")
    await graph.open()
    try:
        yield graph
    finally:
        await graph.close()


def _blas_threads() -> list[int]:
    return [int(pool["num_threads"]) for pool in threadpool_info() if pool["user_api"] == "blas"]


async def test_two_concurrent_recalls_leave_the_blas_thread_limits_as_found(
    store: GraphStore,
) -> None:
    memory = Memory(store, HashEmbedder(), clock=StepClock())
    await seed_user(memory, "alice")
    await seed_user(memory, "bob", name="Bob")
    # The host's own choice, which need not be the library's favourite (one thread).
    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        for _ in range(3):
            await asyncio.gather(
                memory.recall("alice", "where do I live now?"),
                memory.recall("bob", "what pet do I have?"),
            )
        assert _blas_threads() == before


async def test_a_slow_embedding_does_not_block_another_request_on_the_http_server(
    store: GraphStore,
) -> None:
    embedder = GatedEmbedder(marker="slowly")
    memory = Memory(store, embedder, clock=StepClock())
    await seed_user(memory, "alice")
    await seed_user(memory, "bob", name="Bob")
    app = create_app(memory, api_key=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        slow = asyncio.create_task(
            client.get("/users/alice/search", params={"q": "where do I live, slowly?"})
        )
        # Wait (off the loop) until the search is inside the embedder.
        entered = await asyncio.to_thread(embedder.entered.wait, 20)
        assert entered, (await slow).text if slow.done() else "search still running"
        other = await client.get("/users/bob/facts", params={"predicate": "lives_in"})
        # Bob's request was answered while Alice's search still waited in the embedder.
        assert embedder.waiting and not slow.done()
        assert other.status_code == 200
        assert [f["object"] for f in other.json()["facts"]] == ["Berlin"]
        embedder.gate.set()
        found = await slow
    assert found.status_code == 200
    assert "Berlin" in {f["object"] for f in found.json()["facts"]}
