"""The query's unnamed reading: names embedded once, their direction taken out of the query's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode
from memlane.memory_graph.retrieval.unnamed import NameVectors, proper_names
from memlane.memory_graph.stores import open_store
from tests.tools_support.embedders import RecordingEmbedder

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("What do Melanie's kids like?", ["Melanie's"]),
        ("Where did Jon and Gina meet?", ["Jon", "Gina"]),
        ("What did the LGBTQ group do?", []),  # an acronym is not a name
        ("where do I live?", []),  # nor is "I"
        ("Melanie, what do you like?", []),  # the first word may be capitalised for no name
    ],
)
def test_the_proper_names_of_a_query(query: str, names: list[str]) -> None:
    assert proper_names(query) == names


def test_the_unnamed_reading_is_the_query_without_the_names_direction() -> None:
    emb, names = HashEmbedder(), NameVectors()
    texts, key, kept = names.texts("Where did Jon and Gina meet?")
    assert texts == ["Where did Jon and Gina meet?", "Jon Gina"] and kept is None
    rows = names.vectors(emb.embed(texts), key, kept)
    query, name = emb.embed(texts)
    expected = (query - name) / np.linalg.norm(query - name)
    assert rows.shape == (2, emb.dim)
    assert np.allclose(rows[0], query)
    assert np.allclose(rows[1], expected, atol=1e-6)
    assert np.isclose(np.linalg.norm(rows[1]), 1.0, atol=1e-6)
    # The names are kept: the next question about them embeds only itself.
    texts, key, kept = names.texts("What do Jon and Gina like?")
    assert texts == ["What do Jon and Gina like?"] and kept is not None
    assert names.vectors(emb.embed(texts), key, kept).shape == (2, emb.dim)


def test_a_query_naming_nobody_has_one_vector_and_the_kept_names_are_bounded() -> None:
    emb, names = HashEmbedder(), NameVectors(size=2)
    texts, key, kept = names.texts("where do I live?")
    assert (texts, key, kept) == (["where do I live?"], "", None)
    assert names.vectors(emb.embed(texts), key, kept).shape == (1, emb.dim)
    for who in ("Ann", "Bob", "Ann", "Cy"):  # Ann used again: Bob is the least recent
        texts, key, kept = names.texts(f"Where does {who} live?")
        names.vectors(emb.embed(texts), key, kept)
    assert names.texts("Where does Bob live?")[0] == ["Where does Bob live?", "Bob"]  # evicted
    assert names.texts("Where does Ann live?")[0] == ["Where does Ann live?"]
    # What texts() gave stays usable when the names are dropped before the vector arrives.
    texts, key, kept = names.texts("Where does Cy live?")
    for who in ("Dee", "Eve"):
        names.vectors(emb.embed(*names.texts(f"Where does {who} live?")[:1]), who, None)
    assert names.vectors(emb.embed(texts), key, kept).shape == (2, emb.dim)


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    async with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        yield Memory(store, RecordingEmbedder(), clock=lambda: datetime(2024, 6, 1, tzinfo=UTC))


async def test_recall_embeds_a_name_once_and_finds_what_was_said_without_it(
    memory: Memory,
) -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    said = Episode(
        id="e1",
        user_id="u",
        session_id="s1",
        speaker="user",
        content="The kids love dinosaurs and painting.",
        occurred_at=when,
        recorded_at=when,
    )
    draft = FactDraft(
        subject="Melanie", predicate="has_pet", object="a dog", statement="Melanie has a dog"
    )
    await memory.commit("u", [draft], [said])
    emb = memory.embedder
    assert isinstance(emb, RecordingEmbedder)
    emb.calls.clear()
    first = await memory.recall("u", "What do Melanie's kids like?")
    second = await memory.recall("u", "What do Melanie's kids enjoy?")
    assert emb.calls == [
        ["What do Melanie's kids like?", "Melanie's"],
        ["What do Melanie's kids enjoy?"],
    ]
    for ctx in (first, second):
        assert "e1" in [ce.episode.id for ce in ctx.episodes]
        assert "unnamed" in next(ce.sources for ce in ctx.episodes if ce.episode.id == "e1")
