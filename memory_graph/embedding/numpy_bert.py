"""A sentence-transformers BERT encoder (MiniLM) run in numpy, for queries: no torch.

Loading torch and sentence-transformers takes seconds of CPU (10 s on the shared 2-core
machine), more than a whole ``memlane recall`` should; a query is a handful of tokens, which a
6-layer 384-wide BERT turns into a vector in 10-25 ms of numpy matrix products there (as long
as torch in bfloat16 took for it in the same run; float32 torch took 30-40). So small calls
run here: the ``tokenizers`` package (Rust, no torch) with the model's own
``tokenizer.json``, the weights read from its ``model.safetensors`` (memory-mapped: the rows of
the 30k-word embedding table a query does not use are never read), and the forward pass of
``BertModel`` (absolute positions, exact GELU, post-layer-norm) with mean pooling and L2
normalisation, in float32 like torch's. The vectors match sentence-transformers' float32 ones
to about 1e-7 per component (``tests/unit/test_numpy_bert.py``).

Only a model directory that is exactly this shape is accepted (:meth:`NumpyBert.supports`):
a BERT ``config.json``, mean pooling and a ``Normalize`` module in ``modules.json``, the
safetensors weights and a ``tokenizer.json``. Anything else stays on torch.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import mmap
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NumpyBert", "erf", "gelu", "read_safetensors"]

_DTYPES = {"F32": np.float32, "I64": np.int64}  # others: not a model this module runs


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file as read-only arrays over a memory map.

    The format is an 8-byte little-endian header length, a JSON header naming each tensor's
    dtype, shape and byte range, then the raw little-endian data; mapping it costs nothing
    until a tensor's pages are touched.
    """
    with path.open("rb") as fh:
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    size = int.from_bytes(buf[:8], "little")
    header = json.loads(buf[8 : 8 + size])
    base = 8 + size
    out: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise ValueError(f"{path.name}: tensor {name} has unsupported dtype {meta['dtype']}")
        start, end = meta["data_offsets"]
        array = np.frombuffer(buf, dtype=np.dtype(dtype).newbyteorder("<"),
                              count=(end - start) // np.dtype(dtype).itemsize,
                              offset=base + start)  # fmt: skip
        out[name] = array.reshape(meta["shape"])
    return out


# The error function for BERT's exact GELU (numpy has none; scipy's costs 0.2 s to import): the
# rational approximation of Eigen and XLA's float32 erf, x P(x^2) / Q(x^2) on [-4, 4] (beyond,
# erf is +-1 in float32), evaluated in float64: absolute error 6.5e-8 against math.erf, below
# float32's own rounding of the activations it multiplies.
_ERF_P = (-1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04,
          -5.69250639462346e-05, -2.10102402082508e-06, 2.77068142495902e-08,
          -2.72614225801306e-10)  # fmt: skip
_ERF_Q = (-1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03,
          -2.13374055278905e-04, -1.45660718464996e-05)  # fmt: skip


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise, in float64 (absolute error below 1e-7)."""
    x = np.clip(x.astype(np.float64), -4.0, 4.0)
    x2 = x * x
    p = np.full_like(x2, _ERF_P[-1])
    for c in reversed(_ERF_P[:-1]):
        p *= x2
        p += c
    q = np.full_like(x2, _ERF_Q[-1])
    for c in reversed(_ERF_Q[:-1]):
        q *= x2
        q += c
    return x * p / q


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, ``x * (1 + erf(x / sqrt(2))) / 2``, in ``x``'s dtype."""
    return (x * (0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0)))))).astype(x.dtype, copy=False)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + eps) * weight + bias


class _Layer:
    """One encoder layer's weights; q, k and v as one matrix (one product instead of three)."""

    def __init__(self, w: dict[str, np.ndarray], prefix: str) -> None:
        att = f"{prefix}.attention"
        self.qkv_w = np.concatenate(
            [w[f"{att}.self.{n}.weight"] for n in ("query", "key", "value")]
        ).T.copy()
        self.qkv_b = np.concatenate([w[f"{att}.self.{n}.bias"] for n in ("query", "key", "value")])
        # Copies: the mapped tensors are not aligned for BLAS (numpy's matmul falls back to a
        # loop 100x slower on them), and transposed once here, not per product.
        self.out_w = np.ascontiguousarray(w[f"{att}.output.dense.weight"].T)
        self.out_b = w[f"{att}.output.dense.bias"]
        self.ln1 = (w[f"{att}.output.LayerNorm.weight"], w[f"{att}.output.LayerNorm.bias"])
        self.up_w = np.ascontiguousarray(w[f"{prefix}.intermediate.dense.weight"].T)
        self.up_b = w[f"{prefix}.intermediate.dense.bias"]
        self.down_w = np.ascontiguousarray(w[f"{prefix}.output.dense.weight"].T)
        self.down_b = w[f"{prefix}.output.dense.bias"]
        self.ln2 = (w[f"{prefix}.output.LayerNorm.weight"], w[f"{prefix}.output.LayerNorm.bias"])


class NumpyBert:
    """A sentence-transformers BERT (token embeddings, mean pooling, normalisation) in numpy.

    Args:
        path: the model directory (as sentence-transformers saves it).

    Raises:
        ValueError: the directory is not a model this class runs (see :meth:`supports`).
    """

    def __init__(self, path: str | Path) -> None:
        from tokenizers import Tokenizer

        root = Path(path)
        reason = self.unsupported(root)
        if reason:
            raise ValueError(f"{root}: {reason}")
        config = _read_json(root / "config.json")
        self.dim = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_length = self._max_length(root, config)
        w = read_safetensors(root / "model.safetensors")
        w = {k.removeprefix("bert."): v for k, v in w.items()}
        self.word = w["embeddings.word_embeddings.weight"]  # rows read as used
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [
            _Layer(w, f"encoder.layer.{i}") for i in range(int(config["num_hidden_layers"]))
        ]
        tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_length)
        self.tokenizer = tokenizer

    @staticmethod
    def _max_length(root: Path, config: dict[str, Any]) -> int:
        """sentence-transformers' ``max_seq_length``: its config's, capped by the model's."""
        limit = int(config.get("max_position_embeddings", 512))
        with contextlib.suppress(OSError, KeyError, ValueError, TypeError):
            limit = min(limit, int(_read_json(root / "tokenizer_config.json")["model_max_length"]))
        try:
            seq = _read_json(root / "sentence_bert_config.json").get("max_seq_length")
        except OSError:
            seq = None
        return min(int(seq), limit) if seq else limit

    @classmethod
    def supports(cls, path: str | Path) -> bool:
        """Whether ``path`` holds a model this class runs exactly as sentence-transformers."""
        return not cls.unsupported(Path(path))

    @staticmethod
    def unsupported(root: Path) -> str:
        """Why ``root`` is not a model this class runs ("" when it is)."""
        try:
            config = _read_json(root / "config.json")
            modules = [m.get("type", "") for m in _read_json(root / "modules.json")]
            pooling_dir = next(
                (m.get("path", "") for m in _read_json(root / "modules.json")
                 if m.get("type", "").endswith(".Pooling")),
                None,
            )  # fmt: skip
            pooling = _read_json(root / (pooling_dir or "1_Pooling") / "config.json")
        except (OSError, ValueError, AttributeError) as exc:
            return f"not a sentence-transformers model directory ({exc})"
        for name in ("model.safetensors", "tokenizer.json"):
            if not (root / name).is_file():
                return f"no {name}"
        if config.get("model_type") != "bert":
            return f"model type {config.get('model_type')!r}, not bert"
        if config.get("hidden_act") != "gelu":
            return f"activation {config.get('hidden_act')!r}, not gelu"
        if config.get("position_embedding_type", "absolute") != "absolute":
            return "positions are not absolute"
        kinds = [m.rsplit(".", 1)[-1] for m in modules]
        if kinds != ["Transformer", "Pooling", "Normalize"]:
            return f"modules {kinds}, not Transformer, Pooling, Normalize"
        modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
        if modes != {"pooling_mode_mean_tokens"}:
            return f"pooling {sorted(modes)}, not mean"
        return ""

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids, truncated at :attr:`max_length` (as sentence-transformers)."""
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, ``(len(texts), dim)``, as sentence-transformers'.

        The texts' tokens are packed into one matrix for the dense layers (no padding: a
        2-D product is one BLAS call, where a padded 3-D batch is one per text and pads the
        short texts to the longest); attention runs text by text.
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.tokenize(texts)
        bounds = np.cumsum([0, *(len(t) for t in ids)])
        spans = list(itertools.pairwise(bounds.tolist()))
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.intp, count=bounds[-1])
        positions = np.concatenate([np.arange(len(t)) for t in ids])
        x = self.word[flat] + self.position[positions] + self.token_type
        x = _layer_norm(x, *self.emb_ln, self.eps)
        heads, width = self.heads, self.dim // self.heads
        scale = np.float32(1.0 / math.sqrt(width))
        context = np.empty_like(x)
        for layer in self.layers:
            qkv = x @ layer.qkv_w
            qkv += layer.qkv_b
            for lo, hi in spans:
                n = hi - lo
                q, k, v = qkv[lo:hi].reshape(n, 3, heads, width).transpose(1, 2, 0, 3)
                scores = q @ k.transpose(0, 2, 1)
                scores *= scale
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                context[lo:hi] = (scores @ v).transpose(1, 0, 2).reshape(n, self.dim)
            out = context @ layer.out_w
            out += layer.out_b
            out += x
            x = _layer_norm(out, *layer.ln1, self.eps)
            hidden = x @ layer.up_w
            hidden += layer.up_b
            out = gelu(hidden) @ layer.down_w
            out += layer.down_b
            out += x
            x = _layer_norm(out, *layer.ln2, self.eps)
        pooled = np.stack([x[lo:hi].mean(axis=0) for lo, hi in spans])
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return (pooled / norms).astype(np.float32, copy=False)
