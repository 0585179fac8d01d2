"""A sentence-transformers BERT encoder (MiniLM) run by ONNX Runtime, for queries: no torch.

Loading torch and sentence-transformers takes seconds of CPU (10 s on the shared 2-core
machine), more than a whole ``memlane recall`` should. So small calls (a query, a turn) run
here: the ``tokenizers`` package (Rust, no torch) with the model's own ``tokenizer.json``,
the weights read from its ``model.safetensors`` (memory-mapped: the rows of the 30k-word
embedding table a query does not use are never read), and the encoder of ``BertModel``
(absolute positions, exact GELU, post-layer-norm) with mean pooling and L2 normalisation,
in float32 like torch's, written as an ONNX graph (:mod:`onnx_proto`) that ONNX Runtime runs
in one call. The vectors match sentence-transformers' float32 ones to about 1e-7 per
component (``tests/unit/test_onnx_bert.py``).

Why ONNX Runtime and not numpy (which ran this forward pass until session 7): a query is a
handful of tokens, so every product is a few rows against a weight matrix. OpenBLAS packs
the weight matrix again on every call and ran at 17-20 GFLOPS there (13.5 ms a query on the
2-core EPYC); ONNX Runtime packs the constant weights once, at load (7 ms). And numpy returns
to Python between its ~300 operations of a forward pass, each time taking the GIL back:
with another thread running Python (the event loop ranking, the store decoding rows), the
query's embedding waited for the GIL at each of them (13 ms alone, 1.6 s beside a thread
that never blocks). One ``InferenceSession.run`` releases the GIL for the whole pass.

Only a model directory that is exactly this shape is accepted (:meth:`OnnxBert.supports`):
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

__all__ = ["OnnxBert", "read_safetensors"]

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


class OnnxBert:
    """A sentence-transformers BERT (token embeddings, mean pooling, normalisation) in ONNX
    Runtime.

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
        self.session = _session(
            _encoder(w, int(config["num_hidden_layers"]), self.dim, self.heads, self.eps)
        )
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

        The texts' tokens are packed into one matrix, no padding (a short text is not
        computed as wide as the longest); a block-diagonal mask keeps each text's attention
        to its own tokens, and a pooling matrix averages each text's rows. Attention over a
        pack grows with the square of its tokens, so texts go in packs of at most
        :data:`PACK_TOKENS` (a text alone always fits: it is cut at ``max_length``).
        """
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = self.tokenize(texts)
        limit = max(PACK_TOKENS, self.max_length)
        out: list[np.ndarray] = []
        pack: list[list[int]] = []
        size = 0  # tokens in ``pack``
        for text_ids in ids:
            if pack and size + len(text_ids) > limit:
                out.append(self._run(pack))
                pack, size = [], 0
            pack.append(text_ids)
            size += len(text_ids)
        out.append(self._run(pack))
        return out[0] if len(out) == 1 else np.concatenate(out)

    def _run(self, ids: list[list[int]]) -> np.ndarray:
        bounds = np.cumsum([0, *(len(t) for t in ids)])
        n = int(bounds[-1])
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.intp, count=n)
        positions = np.concatenate([np.arange(len(t)) for t in ids])
        tokens = self.word[flat] + self.position[positions] + self.token_type
        mask = np.full((n, n), _MASKED, dtype=np.float32)
        pool = np.zeros((len(ids), n), dtype=np.float32)
        for row, (lo, hi) in enumerate(itertools.pairwise(bounds.tolist())):
            mask[lo:hi, lo:hi] = 0.0
            pool[row, lo:hi] = 1.0 / (hi - lo)
        feeds = {"tokens": tokens.astype(np.float32, copy=False), "mask": mask, "pool": pool}
        (vectors,) = self.session.run(["vectors"], feeds)
        return np.asarray(vectors, dtype=np.float32)


PACK_TOKENS = 512
"""Tokens run together at most (above one text's ``max_length``): a call of 15 texts of 256
tokens packed as one would hold 12 x 3,840^2 attention scores (700 MB) per layer."""

_MASKED = np.float32(-1e9)
"""The attention score between tokens of different texts packed together: its softmax
weight is 0 (exp(-1e9) underflows), so each text attends only to its own tokens."""


def _encoder(w: dict[str, np.ndarray], layers: int, dim: int, heads: int, eps: float) -> bytes:
    """The ONNX model of BERT's encoder from the summed token embeddings to pooled unit
    vectors: inputs ``tokens`` (n, dim), ``mask`` (n, n), ``pool`` (texts, n); output
    ``vectors`` (texts, dim)."""
    from memlane.memory_graph.embedding.onnx_proto import Graph, model_bytes

    g = Graph("bert")
    x = g.input("tokens", np.float32, ["n", dim])
    mask = g.input("mask", np.float32, ["n", "n"])
    pool = g.input("pool", np.float32, ["texts", "n"])
    width = dim // heads
    by_head = g.weight("by_head", np.array([-1, heads, width], dtype=np.int64))
    by_row = g.weight("by_row", np.array([-1, dim], dtype=np.int64))
    thirds = g.weight("thirds", np.array([dim, dim, dim], dtype=np.int64))
    scale = g.weight("scale", np.array(1.0 / math.sqrt(width), dtype=np.float32))
    half = g.weight("half", np.array(0.5, dtype=np.float32))
    one = g.weight("one", np.array(1.0, dtype=np.float32))
    root_half = g.weight("root_half", np.array(1.0 / math.sqrt(2.0), dtype=np.float32))
    tiny = g.weight("tiny", np.array(1e-12, dtype=np.float32))

    def tensor(name: str) -> str:
        return g.weight(name, w[name])

    def linear(x: str, name: str, weight: np.ndarray, bias: np.ndarray) -> str:
        # torch's Linear keeps (out, in); the product wants (in, out), transposed once here.
        product = g.op("MatMul", x, g.weight(f"{name}.weight.T", weight.T))
        return g.op("Add", product, g.weight(f"{name}.bias", bias))

    def dense(x: str, prefix: str) -> str:
        return linear(x, prefix, w[f"{prefix}.weight"], w[f"{prefix}.bias"])

    def norm(x: str, prefix: str) -> str:
        return g.op(
            "LayerNormalization", x, tensor(f"{prefix}.weight"), tensor(f"{prefix}.bias"),
            axis=-1, epsilon=eps,
        )  # fmt: skip

    x = norm(x, "embeddings.LayerNorm")
    for i in range(layers):
        at = f"encoder.layer.{i}.attention"
        qkv_w = np.concatenate([w[f"{at}.self.{n}.weight"] for n in ("query", "key", "value")])
        qkv_b = np.concatenate([w[f"{at}.self.{n}.bias"] for n in ("query", "key", "value")])
        qkv = linear(x, f"{at}.qkv", qkv_w, qkv_b)
        q, k, v = g.ops("Split", qkv, thirds, outputs=3, axis=1)
        # (n, dim) -> (heads, n, width); keys as (heads, width, n)
        q = g.op("Transpose", g.op("Reshape", q, by_head), perm=[1, 0, 2])
        k = g.op("Transpose", g.op("Reshape", k, by_head), perm=[1, 2, 0])
        v = g.op("Transpose", g.op("Reshape", v, by_head), perm=[1, 0, 2])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[1, 0, 2]), by_row)
        x = norm(g.op("Add", dense(context, f"{at}.output.dense"), x), f"{at}.output.LayerNorm")
        hidden = dense(x, f"encoder.layer.{i}.intermediate.dense")
        # exact GELU: x (1 + erf(x / sqrt 2)) / 2
        erf = g.op("Erf", g.op("Mul", hidden, root_half))
        hidden = g.op("Mul", g.op("Mul", hidden, g.op("Add", erf, one)), half)
        out = dense(hidden, f"encoder.layer.{i}.output.dense")
        x = norm(g.op("Add", out, x), f"encoder.layer.{i}.output.LayerNorm")
    pooled = g.op("MatMul", pool, x)
    length = g.op("Max", g.op("ReduceL2", pooled, axes=[1], keepdims=1), tiny)
    g.op("Div", pooled, length, name="vectors")
    g.output("vectors", np.float32, ["texts", dim])
    return model_bytes(g)


def _session(model: bytes) -> Any:
    """An ONNX Runtime session on one thread: the host's other threads (the event loop, the
    store) keep the other cores, as with one BLAS thread."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about the machine's optimisations are noise
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
