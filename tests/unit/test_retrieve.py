"""Retrieval over the real SQLite store with the hash embedder: ranking, time, graph, budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode
from memlane.memory_graph.retrieval.retriever import (
    PRESETS,
    MemoryContext,
    RetrievalConfig,
    Retriever,
    count_tokens,
)
from memlane.memory_graph.stores import open_store

pytestmark = pytest.mark.unit

T0 = datetime(2020, 1, 1, tzinfo=UTC)
U = "alice"


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    async with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        yield Memory(store, HashEmbedder(), clock=lambda: datetime(2024, 6, 1, tzinfo=UTC))


def ep(
    eid: str,
    content: str,
    when: datetime,
    *,
    session: str = "s1",
    speaker: str | None = None,
    user: str = U,
) -> Episode:
    return Episode(
        id=eid,
        user_id=user,
        session_id=session,
        speaker=speaker,
        content=content,
        occurred_at=when,
        recorded_at=when,
    )


async def moved(memory: Memory) -> None:
    """Alice lived in Paris from 2020, moved to Berlin in 2023."""
    await memory.commit(
        U,
        [
            FactDraft(
                predicate="lives_in",
                object="Paris",
                object_kind="place",
                statement="User lives in Paris",
                valid_at=T0,
            )
        ],
        [ep("m1", "I live in Paris", T0)],
    )
    later = datetime(2023, 3, 1, tzinfo=UTC)
    await memory.commit(
        U,
        [
            FactDraft(
                predicate="lives_in",
                object="Berlin",
                object_kind="place",
                statement="User lives in Berlin",
                valid_at=later,
            )
        ],
        [ep("m2", "I moved to Berlin", later)],
    )


def statements(facts: list) -> list[str]:
    return [cf.fact.statement for cf in facts]


async def test_current_fact_first_and_old_value_as_superseded(memory: Memory) -> None:
    await moved(memory)
    ctx = await memory.recall(U, "where does the user live")
    assert statements(ctx.facts)[0] == "User lives in Berlin"
    assert "User lives in Paris" not in statements(ctx.facts)
    assert "User lives in Paris" in statements(ctx.superseded)
    assert "→ now] User lives in Berlin" in ctx.text
    assert "2020-01-01 → 2023-03-01] User lives in Paris" in ctx.text
    assert ctx.text.index("User lives in Berlin") < ctx.text.index("User lives in Paris")


async def test_past_question_keeps_closed_facts_among_facts(memory: Memory) -> None:
    await moved(memory)
    ctx = await memory.recall(U, "where did the user live before")
    assert {"User lives in Paris", "User lives in Berlin"} <= set(statements(ctx.facts))
    assert ctx.superseded == []


async def test_as_of_shows_the_world_at_that_time(memory: Memory) -> None:
    await moved(memory)
    ctx = await memory.recall(U, "where does the user live", as_of="2021-06-01")
    assert statements(ctx.facts) == ["User lives in Paris"]
    assert ctx.superseded == []
    # Messages said after as_of are not evidence yet.
    assert [ce.episode.id for ce in ctx.episodes] == ["m1"]
    assert ctx.as_of == datetime(2021, 6, 1, tzinfo=UTC)


async def test_sister_two_hops_away_found_by_expansion(memory: Memory) -> None:
    people = ["Bob", "Carla", "Dmitri", "Erin", "Farid", "Gus", "Hana", "Ivo", "Jun", "Kai"]
    cities = ["Oslo", "Rome", "Quito", "Lima", "Kyiv", "Riga", "Baku", "Doha", "Suva", "Male"]
    drafts = [
        FactDraft(
            subject=p,
            predicate="lives_in",
            object=c,
            object_kind="place",
            statement=f"{p} lives in {c}",
        )
        for p, c in zip(people, cities, strict=True)
    ]
    drafts += [
        FactDraft(
            predicate="has_sibling",
            object="Anna",
            object_kind="person",
            statement="User's sister is Anna",
        ),
        FactDraft(
            subject="Anna",
            predicate="lives_in",
            object="Lisbon",
            object_kind="place",
            statement="Anna's home city is Lisbon",
        ),
    ]
    await memory.commit(U, drafts, [ep("m1", "Some facts about people I know", T0)])
    question = "where does my sister live"
    ctx = await memory.recall(U, question)
    top = {cf.fact.statement: cf for cf in ctx.facts[:3]}
    assert "Anna's home city is Lisbon" in top
    assert "graph" in top["Anna's home city is Lisbon"].sources
    # Without the graph leg the same fact is not near the top: expansion earned it.
    flat = await memory.recall(U, question, preset=RetrievalConfig(expand=False))
    assert "Anna's home city is Lisbon" not in statements(flat.facts[:3])


async def test_token_budget_is_respected(memory: Memory) -> None:
    episodes = [
        ep(
            f"m{i}",
            f"We talked about hiking trip number {i} in the mountains with friends",
            T0 + timedelta(days=i),
        )
        for i in range(40)
    ]
    await memory.add_episodes(episodes)
    ctx = await memory.recall(U, "hiking trip in the mountains", token_budget=120)
    assert 0 < ctx.tokens <= 120
    assert ctx.tokens == count_tokens(ctx.text)
    assert len(ctx.episodes) < 40
    # What the lists hold is exactly what the text shows.
    for ce in ctx.episodes:
        assert ce.episode.content in ctx.text
    big = await memory.recall(U, "hiking trip in the mountains", token_budget=4000)
    assert len(big.episodes) > len(ctx.episodes)


async def test_near_duplicates_are_dropped(memory: Memory) -> None:
    await memory.commit(
        U,
        [
            FactDraft(
                predicate="likes", object="hiking", statement="User loves hiking in the Alps."
            ),
            FactDraft(
                predicate="hobby",
                object="mountain hiking",
                statement="user loves hiking in the alps",
            ),
        ],
        [ep("m1", "I love hiking in the Alps", T0)],
    )
    await memory.add_episodes(
        [
            ep("m2", "Hiking in the Alps is the best", T0 + timedelta(days=1), session="s2"),
            ep("m3", "Hiking in the alps is the best!", T0 + timedelta(days=2), session="s3"),
        ]
    )
    ctx = await memory.recall(U, "does the user like hiking in the Alps")
    assert len([s for s in statements(ctx.facts) if "hiking" in s.lower()]) == 1
    contents = [ce.episode.content.lower().rstrip("!") for ce in ctx.episodes]
    assert contents.count("hiking in the alps is the best") == 1


async def test_named_speaker_and_adjacent_turn(memory: Memory) -> None:
    day = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    await memory.add_episodes(
        [
            ep("D1:1", "What did you do at the weekend?", day, speaker="Mel"),
            ep(
                "D1:2", "I went to the pottery workshop", day + timedelta(seconds=1), speaker="Caro"
            ),
            ep("D1:3", "Pottery workshops are fun", day + timedelta(seconds=2), speaker="Mel"),
            ep("D1:4", "Yes, I made a bowl there", day + timedelta(seconds=3), speaker="Caro"),
        ]
    )
    ctx = await memory.recall(U, "What pottery workshop did Caro go to?")
    assert ctx.episodes[0].episode.id == "D1:2"
    by_id = {ce.episode.id: ce for ce in ctx.episodes}
    assert "adjacent" in by_id["D1:4"].sources
    assert "(2023-05-08, s1) Caro: I went to the pottery workshop" in ctx.text


async def test_ranked_episode_ids_merge_facts_and_episodes(memory: Memory) -> None:
    await memory.add_episodes([ep("e1", "I adopted a cat named Miso", T0)])
    await memory.commit(
        U,
        [
            FactDraft(
                predicate="has_pet",
                object="Miso",
                object_kind="pet",
                statement="User has a cat named Miso",
                episode_ids=["e1"],
            )
        ],
    )
    ctx = await memory.recall(U, "what is the name of my cat")
    assert ctx.ranked_episode_ids()[0] == "e1"
    assert len(ctx.ranked_episode_ids()) == len(set(ctx.ranked_episode_ids()))


async def test_recall_never_returns_another_users_memory(memory: Memory) -> None:
    await moved(memory)
    await memory.commit(
        "bob",
        [FactDraft(predicate="lives_in", object="Tokyo", statement="User lives in Tokyo")],
        [ep("m1", "I live in Tokyo", T0, user="bob")],
    )
    for preset in PRESETS:
        ctx = await memory.recall(U, "where does the user live in Tokyo", preset=preset)
        assert "Tokyo" not in ctx.text
        assert all(cf.fact.user_id == U for cf in [*ctx.facts, *ctx.superseded])
        assert all(ce.episode.user_id == U for ce in ctx.episodes)


async def test_empty_memory_gives_an_empty_context(memory: Memory) -> None:
    ctx = await memory.recall(U, "anything at all?")
    assert isinstance(ctx, MemoryContext)
    assert (ctx.facts, ctx.episodes, ctx.text, ctx.tokens) == ([], [], "", 0)


async def test_retriever_without_episodes(memory: Memory) -> None:
    await moved(memory)
    retriever = Retriever(
        memory.store, memory.embedder, config=RetrievalConfig(include_episodes=False)
    )
    ctx = await retriever.recall(U, "where does the user live")
    assert ctx.episodes == [] and ctx.facts


async def test_episode_index_texts_use_previous_turn_in_batch_and_store(memory: Memory) -> None:
    from memlane.memory_graph.retrieval.index import episode_index_texts

    day = datetime(2023, 5, 8, tzinfo=UTC)
    await memory.add_episodes([ep("a", "Where are you moving?", day, speaker="Mel")])
    later = [
        ep("c", "Near the river.", day + timedelta(seconds=2), speaker="Caro"),
        ep("b", "To Berlin!", day + timedelta(seconds=1), speaker="Caro"),
        ep("x", "Hello", day, session="other", speaker="Mel"),
    ]
    texts = await episode_index_texts(memory.store, U, later)
    assert texts == [
        "Caro: To Berlin!\nCaro: Near the river.",
        "Mel: Where are you moving?\nCaro: To Berlin!",
        "Mel: Hello",
    ]
