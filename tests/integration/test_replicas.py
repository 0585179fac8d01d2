"""Several ``memlane serve`` replicas over one graph server keep every invariant.

Two replicas receive conflicting turns of the same users at the same moment ("I live in
Oslo" on one, "I live in Rome" on the other), round after round, for several users at
once. Afterwards every user has exactly one current ``lives_in`` (a functional predicate),
every turn's episode is stored once, and every city said is in the history: no turn lost,
no two current values. (The two turns are two conversations of the user at once: one
session per replica.)

Then sessions move: each turn of a conversation goes to the next replica, and the thread
the last replica checkpointed holds every earlier turn, whichever replica took it: thread
state lives in the graph, shared by the replicas.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from memlane.agent.threads import StoreCheckpointSaver, thread_id
from memlane.memory_graph.model import FactQuery
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.stores.threads import ThreadStore
from tests.integration.replicas import Replica, replicas

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USERS = ("ada", "ben", "cem", "dia")
ROUNDS = (("Oslo", "Rome"), ("Lisbon", "Vienna"), ("Madrid", "Prague"))


async def _say(
    client: httpx.AsyncClient, replica: Replica, user: str, text: str, session: str | None = None
) -> dict:
    session = session or f"r{replica.port}"  # one conversation per replica
    reply = await client.post(
        f"{replica.base_url}/users/{user}/chat",
        json={"message": text, "session_id": session},
        timeout=120,
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def _conflicting_rounds(pair: list[Replica]) -> None:
    async with httpx.AsyncClient() as client:
        for first, second in ROUNDS:
            turns = []
            for n, user in enumerate(USERS):
                # Alternate which replica gets which city, so neither always wins.
                a, b = (pair[0], pair[1]) if n % 2 == 0 else (pair[1], pair[0])
                turns.append(_say(client, a, user, f"I live in {first}."))
                turns.append(_say(client, b, user, f"I live in {second}."))
            results = await asyncio.gather(*turns)
            assert all(r["write_status"] == "committed" for r in results), results


async def _check(url: str) -> None:
    async with open_store(url) as store:
        for user in USERS:
            episodes = [r async for r in store.export(user) if r["type"] == "episode"]
            said = [e for e in episodes if e["role"] == "user"]
            assert len(said) == 2 * len(ROUNDS), f"{user}: {len(said)} user turns stored"
            facts = await store.find_facts(user, FactQuery(predicate="lives_in", limit=100))
            current = [f for f in facts if f.is_current]
            names = {e.id: e.name for e in await store.list_entities(user)}
            cities = {names.get(f.object_id or "", f.value) for f in facts}
            seen = [(f.statement, f.valid_at, f.invalid_at, f.expired_at) for f in facts]
            print(
                f"{user}: {len(said)} user turns stored, {len(facts)} lives_in facts, "
                f"{len(current)} current"
            )
            assert len(current) == 1, f"{user}: two current lives_in among {seen}"
            assert cities == {c for pair in ROUNDS for c in pair}, f"{user}: {cities}"
            assert names.get(current[0].object_id or "") in ROUNDS[-1]


TRAVELLERS = ("eve", "fay")
TRAVEL_TURNS = 6


async def _moving_sessions(pool: list[Replica]) -> dict[str, list[int]]:
    """Each traveller's turns go to the replicas in turn; returns the ports per user."""
    took: dict[str, list[int]] = {}
    async with httpx.AsyncClient() as client:
        for turn in range(TRAVEL_TURNS):
            said = []
            for n, user in enumerate(TRAVELLERS):
                replica = pool[(turn + n) % len(pool)]
                took.setdefault(user, []).append(replica.port)
                said.append(_say(client, replica, user, f"Travel note {turn}.", session="trip"))
            results = await asyncio.gather(*said)
            assert all(r["write_status"] == "committed" for r in results), results
    return took


async def _check_threads(url: str, took: dict[str, list[int]]) -> None:
    async with open_store(url) as store:
        assert isinstance(store, ThreadStore)
        saver = StoreCheckpointSaver(store)
        for user in TRAVELLERS:
            config = {"configurable": {"thread_id": thread_id(user, "trip")}}
            state = await saver.aget_tuple(config)  # type: ignore[arg-type]
            assert state is not None, f"{user}: no thread in the graph"
            history = state.checkpoint["channel_values"]["history"]
            said = [m["content"] for m in history if m["role"] == "user"]
            replies = [m for m in history if m["role"] == "assistant"]
            print(
                f"{user}: {TRAVEL_TURNS} turns over replicas {took[user]}; the thread holds "
                f"{len(said)} user turns and {len(replies)} replies"
            )
            assert said == [f"Travel note {t}." for t in range(TRAVEL_TURNS)]
            assert len(replies) == TRAVEL_TURNS


def test_replicas_serialise_conflicting_turns_and_share_sessions(
    graph_url: str, tmp_path: Path
) -> None:
    with replicas(graph_url, tmp_path, 3) as pool:
        asyncio.run(_conflicting_rounds(pool[:2]))
        took = asyncio.run(_moving_sessions(pool))
    asyncio.run(_check(graph_url))
    asyncio.run(_check_threads(graph_url, took))
