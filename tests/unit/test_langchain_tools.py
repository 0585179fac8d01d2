"""The memory tools as LangChain tools: schemas, bound user, results and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage

from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.errors import InputError
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store
from memlane.tools import TOOL_SPECS, memory_tools
from memlane.tools.models import Explanation, Remembered
from tests.tools_support.seed import StepClock, seed_user

pytestmark = pytest.mark.unit


@pytest.fixture
async def memory(tmp_path: Path) -> Memory:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    await store.open()
    yield Memory(store, HashEmbedder(), clock=StepClock())  # type: ignore[misc]
    await store.close()


def _call(name: str, args: dict[str, object], n: int = 1) -> dict[str, object]:
    return {"type": "tool_call", "id": f"call{n}", "name": name, "args": args}


async def test_tools_have_schemas_and_descriptions_and_no_user_argument(memory: Memory) -> None:
    tools = memory_tools(memory, "alice")
    assert [t.name for t in tools] == [s.name for s in TOOL_SPECS]
    for tool in tools:
        assert len(tool.description) > 20
        schema = tool.tool_call_schema.model_json_schema()  # type: ignore[union-attr]
        assert "user_id" not in json.dumps(schema)
        assert "user" not in schema.get("properties", {})
    read_only = memory_tools(memory, "alice", read_only=True)
    assert {t.name for t in read_only} == {
        "memory_profile",
        "memory_search",
        "memory_facts",
        "memory_history",
        "memory_why",
        "memory_diff",
    }
    with pytest.raises(InputError):
        memory_tools(memory, "not a user!")


async def test_tool_calls_return_json_and_a_typed_artifact(memory: Memory) -> None:
    ids = await seed_user(memory, "alice")
    await seed_user(memory, "bob", name="Bob")
    tools = {t.name: t for t in memory_tools(memory, "alice")}

    msg = await tools["memory_why"].ainvoke(
        _call("memory_why", {"fact_id": ids["lives_in:Berlin"]})
    )
    assert isinstance(msg, ToolMessage) and msg.status == "success"
    assert isinstance(msg.artifact, Explanation)
    assert json.loads(str(msg.content))["superseded"][0]["object"] == "Paris"

    msg = await tools["memory_remember"].ainvoke(
        _call("memory_remember", {"statement": "I am training for a marathon"}, 2)
    )
    assert isinstance(msg.artifact, Remembered)
    facts = await memory.facts("alice", predicate="note")
    assert [f.statement for f in facts] == ["I am training for a marathon"]
    assert await memory.facts("bob", predicate="note") == []


async def test_errors_go_back_to_the_model(memory: Memory) -> None:
    await seed_user(memory, "alice")
    bob_ids = await seed_user(memory, "bob", name="Bob")
    tools = {t.name: t for t in memory_tools(memory, "alice")}
    # Bob's fact id, asked through Alice's tools: not found, and Bob's fact is untouched.
    msg = await tools["memory_forget_fact"].ainvoke(
        _call("memory_forget_fact", {"fact_id": bob_ids["likes:sushi"]})
    )
    assert msg.status == "error" and "not_found" in str(msg.content)
    assert len(await memory.facts("bob", predicate="likes")) == 1
    msg = await tools["memory_diff"].ainvoke(_call("memory_diff", {"since": "yesterday-ish"}, 2))
    assert msg.status == "error" and "invalid_input" in str(msg.content)


async def test_invalid_arguments_go_back_to_the_model(memory: Memory) -> None:
    tools = {t.name: t for t in memory_tools(memory, "alice")}
    msg = await tools["memory_why"].ainvoke(_call("memory_why", {"fact_id": "no spaces allowed"}))
    assert msg.status == "error"
