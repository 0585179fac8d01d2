"""The embedder port: text to unit-length float32 vectors, batched."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Embedder"]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dim`` dimensions."""

    dim: int
    name: str

    def embed(self, texts: list[str]) -> np.ndarray:
        """Shape ``(len(texts), dim)``, float32, each row unit length (zero rows for empty)."""
        ...
