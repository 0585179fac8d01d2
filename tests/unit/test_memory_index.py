"""Every path that writes a message's vector embeds the same index text (speaker + previous
turn of the session): add_episodes, commit, import of records without vectors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode
from memlane.memory_graph.stores import open_store

pytestmark = pytest.mark.unit

U = "u1"
DAY = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)


class RecordingEmbedder(HashEmbedder):
    """The hash embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts)


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    store = open_store(f"sqlite:///{tmp_path / 'memory.db'}")
    await store.open()
    try:
        yield Memory(store, RecordingEmbedder())
    finally:
        await store.close()


def turn(eid: str, content: str, second: int, speaker: str, user: str = U) -> Episode:
    return Episode(
        id=eid,
        user_id=user,
        session_id="s1",
        speaker=speaker,
        content=content,
        occurred_at=DAY + timedelta(seconds=second),
        recorded_at=DAY,
    )


def texts(memory: Memory) -> list[str]:
    emb = memory.embedder
    assert isinstance(emb, RecordingEmbedder)
    return emb.texts


async def test_add_episodes_embeds_speaker_and_previous_turn_of_the_batch_and_store(
    memory: Memory,
) -> None:
    await memory.add_episodes([turn("a", "Where are you moving?", 0, "Mel")])
    # "c" comes first in the batch but after "b" in time: its previous turn is "b", which is
    # not stored yet; "b"'s previous turn is the stored "a".
    await memory.add_episodes(
        [turn("c", "Near the river.", 2, "Caro"), turn("b", "To Berlin!", 1, "Caro")]
    )
    assert texts(memory) == [
        "Mel: Where are you moving?",
        "Caro: To Berlin!\nCaro: Near the river.",
        "Mel: Where are you moving?\nCaro: To Berlin!",
    ]
    ctx = await memory.recall(U, "Where is Caro moving to?")
    assert "b" in ctx.ranked_episode_ids()


async def test_commit_embeds_its_episodes_by_index_text(memory: Memory) -> None:
    await memory.add_episodes([turn("a", "Where are you moving?", 0, "Mel")])
    draft = FactDraft(
        subject="Caro",
        subject_kind="person",
        predicate="lives_in",
        object="Berlin",
        object_kind="place",
        statement="Caro moves to Berlin",
    )
    await memory.commit(U, [draft], [turn("b", "To Berlin!", 1, "Caro")])
    assert "Mel: Where are you moving?\nCaro: To Berlin!" in texts(memory)
    assert "To Berlin!" not in texts(memory)


async def test_import_without_vectors_embeds_index_text(memory: Memory) -> None:
    records = [
        {"type": "episode", **turn(e, c, i, s).model_dump(mode="json")}
        for i, (e, c, s) in enumerate((("a", "Where to?", "Mel"), ("b", "Berlin!", "Caro")))
    ]
    await memory.import_records(records)
    assert texts(memory) == ["Mel: Where to?", "Mel: Where to?\nCaro: Berlin!"]


async def test_a_commit_embeds_each_distinct_text_once(memory: Memory) -> None:
    said = "Kim and Lea moved to Oslo together"
    drafts = [
        FactDraft(
            subject=who,
            subject_kind="person",
            predicate="lives_in",
            object="Oslo",
            object_kind="place",
            statement=said,
        )
        for who in ("Kim", "Lea")
    ]
    report = await memory.commit(U, drafts)
    assert report.facts_added == 2
    assert texts(memory).count(said) == 1
    hits = await memory.store.search_vector(U, "fact", memory.embedder.embed([said])[0], 5)
    assert {h.id for h in hits} == set(report.fact_ids)
