"""memlane against a real model server: llama-cpp-python's OpenAI-compatible server with
Qwen2.5-Coder-0.5B (``tests/integration/llama_server.py``).

These check the plumbing, not the quality of a 0.5B model: that a turn commits through the
schema path, that replies stream, that calls are accounted, that a server which refuses a
structured-output form moves the model down the ladder, and that a server killed mid-turn
leaves the message stored and the failure recorded, for ``retry-failed`` to complete.
Each prints its counts (``-s`` shows them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from memlane.agent.api import MemoryAgent
from memlane.agent.settings import ModelSettings, Settings
from memlane.llm.config import ModelConfig
from memlane.llm.gateway import LLMGateway, forget_rungs, probe
from memlane.llm.testing import ScriptedLLM
from memlane.prompts import extract_memory as em
from tests.integration.llama_server import LlamaServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
# A local server needs no key, but the OpenAI client LiteLLM uses insists on one.
LOCAL_KEY = "sk-local"


@pytest.fixture(autouse=True)
def _fresh_rungs() -> Iterator[None]:
    forget_rungs()
    yield
    forget_rungs()


def _settings(tmp_path: Path, server: LlamaServer, **kw: Any) -> Settings:
    local = ModelSettings(api_base=server.api_base, api_key=LOCAL_KEY, timeout_s=240, max_retries=1)  # type: ignore[arg-type]
    return Settings(
        store=f"sqlite:///{tmp_path / 'memory.db'}",
        embedder="hash",
        model=server.model_name,
        checkpoint_db=str(tmp_path / "threads.db"),
        chat=local.model_copy(update={"max_tokens": 48}),
        extraction=local,
        **kw,
    )


async def test_three_turns_commit_through_the_schema_path(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    turns = [
        "I live in Lisbon.",
        "I work as a nurse at Santa Maria hospital.",
        "I have a dog named Bolt.",
    ]
    rows = []
    async with MemoryAgent(settings=_settings(tmp_path, llama_server)) as agent:
        for i, text in enumerate(turns):
            tokens: list[str] = []
            result = await agent.achat(
                "ana", text, at=T0 + timedelta(days=i), on_token=tokens.append
            )
            extraction = [c for c in result.calls if c["task"] == em.TASK]
            rows.append(
                {
                    "status": result.write_status,
                    "facts": result.report.facts_added if result.report else 0,
                    "rungs": [c["rung"] for c in extraction],
                    "tokens": sum(
                        c["prompt_tokens"] + c["completion_tokens"] for c in result.calls
                    ),
                    "streamed_pieces": len(tokens),
                }
            )
            # Streaming: the reply arrived in pieces, and they are the reply.
            assert len(tokens) > 1 and "".join(tokens) == result.reply
            assert result.write_status == "committed", result.write_error
            # The schema path: constrained decoding, never JSON mode with the schema in prose.
            assert extraction[-1]["ok"] and extraction[-1]["rung"] in (
                "json_schema",
                "json_object_schema",
            )
            # Accounting: every call with its tokens; a local server has no price.
            for call in result.calls:
                assert call["cost_usd"] == 0.0 and call["price_known"] is False
                assert call["prompt_tokens"] > 0 or not call["ok"]  # a refused form: no tokens
        totals = agent.status()["llm"]
        stored = await (await agent.memory()).facts("ana")
    print("\nreal model, 3 turns:", json.dumps(rows), "totals:", json.dumps(totals))
    assert sum(r["facts"] for r in rows) > 0 and len(stored) > 0
    assert totals["calls"] >= 6 and totals["unknown_price"] == totals["calls"]


async def test_a_rejected_form_moves_the_model_down_the_ladder(llama_server: LlamaServer) -> None:
    # llama-cpp-python's server refuses OpenAI's json_schema response format (HTTP 500
    # naming response_format): the gateway must step down once, not retry it as transient.
    config = ModelConfig(
        model=llama_server.model_name, api_base=llama_server.api_base, api_key=LOCAL_KEY
    )  # type: ignore[arg-type]
    gateway = LLMGateway(config, max_retries=3)
    assert gateway.rung() == "json_schema"
    found = await probe(gateway)
    print("\nprobe:", json.dumps(found), [c.to_dict() for c in gateway.accounting.records])
    assert found["reachable"] and found["rung"] == "json_object_schema"
    first, second = gateway.accounting.records
    assert not first.ok and first.rung == "json_schema" and first.attempts == 1
    assert second.ok and second.rung == "json_object_schema"
    assert gateway.rung() == "json_object_schema"  # remembered: the next call goes straight there


async def test_a_server_killed_mid_turn_keeps_the_message_and_retry_failed_completes(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    # The reply comes from the scripted fake; extraction from a real server of its own, which
    # is killed (SIGKILL, by PID) while the reply streams: the turn's extraction then meets a
    # dead server.
    server = LlamaServer(llama_server.python, llama_server.model, tmp_path / "own").start()
    text = "My sister Ruth is a teacher in Bristol."
    try:
        with ScriptedLLM.installed() as fake:
            settings = _settings(tmp_path, server).model_copy(update={"model": fake.model})
            settings = settings.model_copy(
                update={"extraction": settings.extraction.model_copy(
                    update={"model": server.model_name})}
            )  # fmt: skip
            async with MemoryAgent(settings=settings) as agent:
                result = await agent.achat("ruth", text, at=T0, on_token=lambda _: server.kill())
                memory = await agent.memory()
                episodes = [r async for r in memory.export("ruth") if r["type"] == "episode"]
                (failed,) = await memory.jobs("ruth", ("failed",))
                assert result.write_status == "failed" and result.write_error is not None
                assert result.write_error["reason"] == "connection"
                assert [e["content"] for e in episodes] == [text]  # the message is kept
                assert failed.code == "llm_error" and failed.reason == "connection"
                server.start()  # the same port
                report = await agent.retry_failed("ruth")
                again = await agent.retry_failed("ruth")  # idempotent: nothing left to do
                (done,) = await memory.jobs("ruth", ("done",))
                facts = await memory.facts("ruth")
        print("\nkilled mid-turn:", result.write_error, "retry:", report.model_dump(), len(facts))
        assert (report.jobs, report.done, report.failed) == (1, 1, 0)
        assert again.jobs == 0 and done.id == failed.id
    finally:
        server.stop()
