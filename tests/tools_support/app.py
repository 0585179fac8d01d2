"""An HTTP client over the ASGI app, with a SQLite memory (and optionally the offline agent)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from memlane.app.server import create_app
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store
from tests.tools_support.seed import StepClock

__all__ = ["offline_agent", "served"]


def offline_agent(memory: Memory, tmp_path: Path) -> Any:
    """A ``MemoryAgent`` on the deterministic offline model (no network, no key)."""
    from memlane.agent.api import MemoryAgent
    from memlane.agent.settings import Settings

    settings = Settings(
        model="memlane/offline",
        embedder="hash",
        store=f"sqlite:///{tmp_path / 'unused.db'}",
        checkpoint_db=str(tmp_path / "threads.db"),
        api_key=None,
    )
    return MemoryAgent(settings=settings, memory=memory)


@asynccontextmanager
async def served(
    tmp_path: Path, *, api_key: str | None = None, with_agent: bool = False
) -> AsyncIterator[tuple[httpx.AsyncClient, Memory]]:
    """A client of a fresh app over an empty SQLite memory (seed it through the memory)."""
    store = open_store(f"sqlite:///{tmp_path / 'server.db'}")
    await store.open()
    agent = None
    try:
        memory = Memory(store, HashEmbedder(), clock=StepClock())
        agent = offline_agent(memory, tmp_path) if with_agent else None
        app = create_app(memory, agent=agent, api_key=api_key)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client, memory
    finally:
        if agent is not None:
            await agent.aclose()
        await store.close()
