"""An HTTP client over the ASGI app, with a seeded SQLite memory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from agent.server import create_app
from memory_graph.embedders import HashEmbedder
from memory_graph.memory import Memory
from memory_graph.stores import open_store
from tests.tools_support.seed import StepClock

__all__ = ["served"]


@asynccontextmanager
async def served(
    tmp_path: Path, *, api_key: str | None = None, agent: Any | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, Memory]]:
    """A client of a fresh app over an empty SQLite memory (seed it through the memory)."""
    store = open_store(f"sqlite:///{tmp_path / 'server.db'}")
    await store.open()
    try:
        memory = Memory(store, HashEmbedder(), clock=StepClock())
        app = create_app(memory, agent=agent, api_key=api_key)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, memory
    finally:
        await store.close()
