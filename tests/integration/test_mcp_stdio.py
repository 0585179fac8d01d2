"""``memlane mcp USER`` as a subprocess, spoken to over stdio by the MCP client."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store
from memlane.tools import TOOL_SPECS
from tests.tools_support.seed import seed_user

pytestmark = pytest.mark.integration


async def _seed(db: Path) -> dict[str, str]:
    async with open_store(f"sqlite:///{db}") as store:
        memory = Memory(store, HashEmbedder())
        await seed_user(memory, "bob", name="Bob")
        return await seed_user(memory, "alice")


def _server(db: Path, user: str) -> StdioServerParameters:
    env = {
        **os.environ,
        "MEMLANE_EMBEDDER": "hash",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    return StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from memlane.app.cli import main; main()",
            "mcp",
            user,
            "--store",
            f"sqlite:///{db}",
        ],
        env=env,
        cwd=str(Path(__file__).resolve().parents[2]),
    )


async def test_mcp_lists_and_calls_the_memory_tools(tmp_path: Path) -> None:
    db = tmp_path / "mcp.db"
    ids = await _seed(db)
    async with (
        stdio_client(_server(db, "alice")) as (read, write),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        assert init.server_info.name == "memlane"

        listed = await session.list_tools()
        tools = {t.name: t for t in listed.tools}
        assert set(tools) == {s.name for s in TOOL_SPECS}
        why_schema = tools["memory_why"].input_schema
        assert why_schema["required"] == ["fact_id"]
        assert "user_id" not in json.dumps([t.input_schema for t in listed.tools])

        result = await session.call_tool("memory_why", {"fact_id": ids["lives_in:Berlin"]})
        assert not result.is_error
        payload = result.structured_content or json.loads(result.content[0].text)  # type: ignore[union-attr]
        assert payload["superseded"][0]["object"] == "Paris"
        assert payload["episodes"][0]["content"].startswith("I just moved to Berlin")

        result = await session.call_tool("memory_profile", {"as_of": "2023-07-01"})
        objects = {f["object"] for f in result.structured_content["facts"]["fact"]}  # type: ignore[index]
        assert objects == {"Paris", "Acme", "Rex"}

        result = await session.call_tool("memory_remember", {"statement": "I collect stamps"})
        assert not result.is_error

        # Another user's fact id is not found through Alice's server.
        bob_fact = await _bob_fact(db)
        result = await session.call_tool("memory_why", {"fact_id": bob_fact})
        assert result.is_error and "not_found" in result.content[0].text  # type: ignore[union-attr]

        result = await session.call_tool("memory_diff", {"since": "not a date"})
        assert result.is_error and "invalid_input" in result.content[0].text  # type: ignore[union-attr]

    async with open_store(f"sqlite:///{db}") as store:
        memory = Memory(store, HashEmbedder())
        assert [f.statement for f in await memory.facts("alice", predicate="note")] == [
            "I collect stamps"
        ]
        assert await memory.facts("bob", predicate="note") == []


async def _bob_fact(db: Path) -> str:
    async with open_store(f"sqlite:///{db}") as store:
        facts = await Memory(store, HashEmbedder()).facts("bob", predicate="works_at")
        return facts[0].id
