"""Ranking rules of this round: a question's joined subjects each get their evidence, a date
the question names outranks better wording from another day, and a best message's speaker's
own turns either side of the reply gain."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode
from memlane.memory_graph.retrieval.config import PRESETS, RetrievalConfig
from memlane.memory_graph.retrieval.query import subjects
from memlane.memory_graph.stores import open_store

pytestmark = pytest.mark.unit

U = "locomo-like"
DAY = datetime(2023, 5, 8, 13, 0, tzinfo=UTC)


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    async with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        yield Memory(store, HashEmbedder(), clock=lambda: datetime(2024, 6, 1, tzinfo=UTC))


def turns(session: str, start: datetime, said: list[tuple[str, str]]) -> list[Episode]:
    return [
        Episode(
            id=f"{session}:{i}",
            user_id=U,
            session_id=session,
            speaker=who,
            content=text,
            occurred_at=start + timedelta(seconds=i),
            recorded_at=start,
        )
        for i, (who, text) in enumerate(said, start=1)
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("What have Mel and Caro both painted?", {"Mel", "Caro"}),
        ("What do both Caro and Mel like?", {"Mel", "Caro"}),
        ("Who is Tim and John's favourite player?", {"Tim", "John"}),
        ("What did Caro give Mel?", {"Caro"}),
        ("What does Mel think of Caro's decision?", {"Mel"}),
        ("What did she paint?", set()),
    ],
)
def test_subjects_are_the_first_name_and_those_joined_to_it(query: str, expected: set[str]) -> None:
    assert subjects(query, ["Mel", "Caro", "Tim", "John"]) == expected


async def test_joined_subjects_each_get_their_evidence(memory: Memory) -> None:
    # Mel talks about painting again and again; Caro painted once. "Both" asks for each.
    mel = [
        ("Mel", "I painted a painting of my garden, painting is my joy"),
        ("Mel", "Another painting today: I painted the lake, painting all day"),
        ("Mel", "I love painting, I painted my dog in oils, painting relaxes me"),
        ("Mel", "Painting class again, we painted flowers, painting every week"),
    ]
    # A message is indexed with the turn before it, so Caro's sunset follows small talk.
    said = [
        ("Caro", "Work was busy and I cooked pasta"),
        *mel,
        ("Mel", "The kids went to school"),
        ("Caro", "Last weekend I painted a sunset over the hills"),
    ]
    await memory.add_episodes(turns("s1", DAY, said))
    ctx = await memory.recall(U, "What have Mel and Caro both painted?")
    top = ctx.ranked_episode_ids()[:3]
    assert "s1:7" in top, top  # Caro's sunset
    assert any(eid in top for eid in ("s1:2", "s1:3", "s1:4", "s1:5")), top


async def test_a_named_date_outranks_better_wording_from_another_day(memory: Memory) -> None:
    later = DAY + timedelta(days=60)
    await memory.add_episodes(
        [
            *turns("s1", DAY, [("Mel", "We drove to the lake for a picnic")]),
            *turns(
                "s2",
                later,
                [("Mel", "We had a picnic by the lake, the best lake picnic of the year")],
            ),
        ]
    )
    ctx = await memory.recall(U, "Where did Mel have a picnic on 8 May, 2023?")
    assert ctx.ranked_episode_ids()[0] == "s1:1"


async def test_the_speakers_own_next_turn_gains_across_a_reply(memory: Memory) -> None:
    said = [
        ("Caro", "How was the weekend?"),
        ("Mel", "We went to the pottery workshop on Saturday"),
        ("Caro", "Oh nice, tell me more"),
        ("Mel", "I made a blue bowl and a cup for my son"),
        ("Caro", "My brother made a vase once"),
    ]
    await memory.add_episodes(turns("s1", DAY, said))
    query = "What did Mel do at the pottery workshop?"

    async def scores(config: RetrievalConfig) -> dict[str, float]:
        ctx = await memory.recall(U, query, preset=config)
        return {ce.episode.id: ce.score for ce in ctx.episodes}

    on = await scores(PRESETS["balanced"])
    off = await scores(PRESETS["balanced"].model_copy(update={"adjacent_own": 0.0}))
    assert on["s1:4"] > off["s1:4"]  # Mel's own turn two on from her best one
