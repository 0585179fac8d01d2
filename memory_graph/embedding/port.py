"""The embedder port: text to unit-length float32 vectors, batched."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Embedder", "embed_off_loop"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dim`` dimensions."""

    dim: int
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Shape ``(len(texts), dim)``, float32, each row unit length (zero rows for empty)."""
        ...


def embed_off_loop(embedder: Embedder, texts: list[str]) -> asyncio.Future[np.ndarray]:
    """``embedder.embed(texts)`` in a worker thread, started now; await the result.

    Model inference is synchronous and takes milliseconds to seconds; run on the event loop,
    it would stall every other request a server is serving meanwhile. Every async caller in
    memlane embeds through this function. The work is handed to the thread at once (not when
    the caller first awaits), so what the caller does before awaiting overlaps it.
    """
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(None, contextvars.copy_context().run, embedder.embed, texts)
