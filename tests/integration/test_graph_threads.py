"""Chat threads on a graph server live in the graph: pruned, bounded, and forgotten whole.

Real components (a private FalkorDB and Neo4j server, the agent loop, the offline model).
After ``forget`` every node of the graph is read back, every string property also decoded
from base64 (how checkpoint blobs rest), and none may hold the user's words or thread ids.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from memlane.agent.api import MemoryAgent
from memlane.agent.settings import Settings
from memlane.agent.threads import StoreCheckpointSaver
from memlane.memory_graph.stores.cypher.store import CypherStore
from memlane.tools import commands

pytestmark = pytest.mark.integration

T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
SECRET = "Zorblax"  # a word that appears nowhere but in maya's messages


def _texts(value: Any) -> list[str]:
    """A property value's strings, and what each decodes to if it is base64."""
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if not isinstance(value, str):
        return []
    out = [value]
    with contextlib.suppress(binascii.Error, ValueError):  # not base64: the text as it is
        out.append(base64.b64decode(value, validate=True).decode("utf-8", "replace"))
    return out


async def _graph_holding(store: CypherStore, needles: list[str]) -> list[str]:
    """Every node (label and property) of the whole graph that holds one of ``needles``."""
    rows = await store.session.read("MATCH (n) RETURN labels(n) AS labels, properties(n) AS p")
    found = []
    for row in rows:
        for key, value in row["p"].items():
            if any(n in t for t in _texts(value) for n in needles):
                found.append(f"{row['labels']}.{key}")
    return found


async def _checkpoints(store: CypherStore, thread: str) -> int:
    rows = await store.session.read(
        "MATCH (c:MemlaneCheckpoint {thread_id: $t}) RETURN count(c) AS n", {"t": thread}
    )
    return int(rows[0]["n"])


async def test_threads_live_in_the_graph_and_forget_leaves_nothing_of_them(
    graph_url: str,
) -> None:
    settings = Settings(store=graph_url, embedder="hash", thread_checkpoints=2)
    async with MemoryAgent(settings=settings) as agent:
        assert isinstance(agent._res.saver, StoreCheckpointSaver)  # type: ignore[union-attr]
        for i, text in enumerate(
            [f"My cat is called {SECRET}.", f"I live in {SECRET}ville.", "I love sushi."]
        ):
            result = await agent.achat("maya", text, session_id="s1", at=T0 + timedelta(days=i))
            assert result.write_status == "committed"
        await agent.achat("noor", "I live in Porto.", at=T0)
        store = (await agent.memory()).store
        assert isinstance(store, CypherStore)
        before = await _graph_holding(store, [SECRET, "maya|"])
        print(f"before forget: {len(before)} node properties hold maya's words or threads")
        assert any("MemlaneCheckpoint" in f for f in before)  # the scan sees the blobs
        assert await _checkpoints(store, "maya|s1") == 2  # pruned to thread_checkpoints

        deleted = await commands.forget(await agent.memory(), "maya", everything=True)
        print(f"forget deleted {deleted.deleted}")
        assert deleted.deleted["checkpoints"] == 2

        assert await _graph_holding(store, [SECRET, "maya|", "maya"]) == []
        assert await _checkpoints(store, "noor|default") == 2

        # Resuming maya's session starts empty: the forgotten text is not put back.
        await agent.achat("maya", "What is my cat called?", session_id="s1", at=T0)
        assert await _graph_holding(store, [SECRET]) == []


async def test_a_threads_history_is_bounded_on_a_graph_server(graph_url: str) -> None:
    settings = Settings(store=graph_url, embedder="hash", thread_history=6, thread_checkpoints=3)
    async with MemoryAgent(settings=settings) as agent:
        for i in range(8):
            await agent.achat("maya", f"Message number {i}.", at=T0 + timedelta(hours=i))
        saver = agent._res.saver  # type: ignore[union-attr]
        state = await saver.aget_tuple({"configurable": {"thread_id": "maya|default"}})
        store = (await agent.memory()).store
        assert isinstance(store, CypherStore)
        kept = await _checkpoints(store, "maya|default")
    assert state is not None
    history = state.checkpoint["channel_values"]["history"]
    assert [m["content"] for m in history if m["role"] == "user"] == [
        "Message number 5.",
        "Message number 6.",
        "Message number 7.",
    ]
    assert kept == 3
