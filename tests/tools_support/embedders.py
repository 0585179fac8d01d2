"""An embedder for tests that records what it is asked: the real hash embedder underneath."""

from __future__ import annotations

import numpy as np

from memlane.memory_graph.embedding.models import HashEmbedder

__all__ = ["RecordingEmbedder"]


class RecordingEmbedder(HashEmbedder):
    """:class:`HashEmbedder`, keeping each call's texts in :attr:`calls` (one list a call)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return super().embed(texts)
