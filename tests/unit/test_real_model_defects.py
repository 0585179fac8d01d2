"""Issue 15's defects, one test each (all fail on the code before the fix), with fakes only at
the LLM boundary (``ScriptedLLM``, a LiteLLM provider that behaves like a server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import litellm
import pytest
from pydantic import BaseModel, ConfigDict, Field

from memlane.agent.api import MemoryAgent
from memlane.agent.settings import Settings, read_settings
from memlane.app.cli._common import model_overrides
from memlane.llm.config import ModelConfig
from memlane.llm.gateway import LLMGateway, ModelCallError, classify, decoding_schema, forget_rungs
from memlane.llm.testing import ScriptedLLM
from memlane.memory_graph.errors import InputError
from memlane.prompts import extract_memory as em

pytestmark = pytest.mark.unit

T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
SYSTEM = {"role": "system", "content": "TASK: pick\nAnswer with JSON."}
FACT = {
    "subject": "user",
    "predicate": "lives_in",
    "object": "Oslo",
    "object_kind": "place",
    "statement": "The user lives in Oslo.",
}


class Pick(BaseModel):
    """A number the model picked."""

    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=0, le=10)
    why: str = Field(default="", max_length=2000, pattern=r"^[^<]*$")


def _messages() -> list[dict[str, str]]:
    return [SYSTEM, {"role": "user", "content": "pick a number"}]


@pytest.fixture(autouse=True)
def _fresh_rungs() -> Iterator[None]:
    forget_rungs()
    yield
    forget_rungs()


@pytest.fixture
def fake() -> Iterator[ScriptedLLM]:
    with ScriptedLLM.installed() as fake:
        yield fake


def _settings(tmp_path: Path, model: str, **kw: Any) -> Settings:
    return Settings(
        store=f"sqlite:///{tmp_path / 'memory.db'}",
        embedder="hash",
        model=model,
        checkpoint_db=str(tmp_path / "threads.db"),
        **kw,
    )


# -- 1. an endpoint per task, with no process-wide LiteLLM state ------------------------------
def test_1_settings_name_an_endpoint_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMLANE_MODEL", "openai/local")
    monkeypatch.setenv("MEMLANE_CHAT__API_BASE", "http://127.0.0.1:8080/v1")
    monkeypatch.setenv("MEMLANE_CHAT__API_KEY", "sk-local-secret")
    monkeypatch.setenv("MEMLANE_CHAT__MAX_TOKENS", "512")
    monkeypatch.setenv("MEMLANE_CHAT__OPTIONS", '{"temperature": 0}')
    monkeypatch.setenv("MEMLANE_JUDGE__MODEL", "gpt-4o-mini")
    settings = read_settings()
    chat, extraction, judge = (settings.llm(t) for t in ("chat", "extraction", "judge"))
    assert chat.api_base == "http://127.0.0.1:8080/v1" and chat.max_tokens == 512
    assert chat.call_kwargs() == {
        "temperature": 0,
        "api_base": "http://127.0.0.1:8080/v1",
        "api_key": "sk-local-secret",
    }
    # The default: the chat model, same endpoint; a reply's cap is not extraction's.
    assert extraction.max_tokens is None
    assert extraction.model_copy(update={"max_tokens": 512}) == chat
    # A judge naming another model is not sent to the local chat server with its key.
    assert judge.model == "gpt-4o-mini" and judge.api_base is None and judge.api_key is None
    assert "sk-local-secret" not in repr(settings) + json.dumps(chat.to_public())


def test_1_cli_flags_set_any_task(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = model_overrides(
        Settings(),
        model="openai/qwen",
        api_base="http://127.0.0.1:9/v1",
        api_key=None,
        llm=["extraction.max_tokens=700", 'extraction.options={"top_p": 0.5}'],
    )
    extraction = settings.llm("extraction")
    assert extraction.model == "openai/qwen" and extraction.api_base == "http://127.0.0.1:9/v1"
    assert extraction.max_tokens == 700 and extraction.options == {"top_p": 0.5}
    with pytest.raises(InputError, match=r"TASK\.FIELD"):
        model_overrides(Settings(), model=None, api_base=None, api_key=None, llm=["chat=1"])


async def test_1_the_endpoint_travels_with_each_call(fake: ScriptedLLM) -> None:
    before = (litellm.api_base, getattr(litellm, "api_key", None))
    fake.script["pick"] = ['{"number": 3}']
    config = ModelConfig(model=fake.model, api_base="http://127.0.0.1:9/v1", api_key="k")
    await LLMGateway(config).complete(_messages(), Pick, task="pick")
    assert fake.calls[-1].params.get("api_base") == "http://127.0.0.1:9/v1"
    assert (litellm.api_base, getattr(litellm, "api_key", None)) == before


# -- 2. the schema reaches a model LiteLLM does not know ---------------------------------------
async def test_2_an_unknown_model_gets_the_schema(fake: ScriptedLLM) -> None:
    fmt = LLMGateway("openai/my-local-model").response_format(Pick)
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["properties"]["number"]["maximum"] == 10
    fake.script["pick"] = ['{"number": 3}']
    await LLMGateway(fake.model).complete(_messages(), Pick, task="pick")
    assert fake.calls[-1].form == "json_schema"


def test_2_small_model_differences_are_normalised_in_one_place() -> None:
    raw = {"facts": [{"subject": "user", "predicate": "lives_in", "object": "Oslo",
                      "valid_from": "2024-01-01"}]}  # fmt: skip
    out = em.ExtractionOutput.model_validate(raw)
    (fact,) = out.facts
    assert fact.valid_at and fact.valid_at.startswith("2024-01-01")
    assert fact.statement == "user lives in Oslo"
    with pytest.raises(ValueError):  # anything else stays an error for the repair retry
        em.ExtractionOutput.model_validate({"facts": [], "restates": ["F1"]})


# -- 3. a server that rejects json_schema moves down the ladder, once --------------------------
async def test_3_a_rejected_form_moves_down_once_and_is_remembered(fake: ScriptedLLM) -> None:
    fake.rejects = {"json_schema"}
    fake.script["pick"] = ['{"number": 3}', '{"number": 4}']
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=3)
    result = await gateway.complete(_messages(), Pick, task="pick")
    assert result.value.number == 3 and result.rung == "json_object_schema"
    assert [c.form for c in fake.calls] == ["json_schema", "json_object_schema"]  # not 4 tries
    again = await LLMGateway(fake.model).complete(_messages(), Pick, task="pick")
    assert again.rung == "json_object_schema" and fake.count("pick") == 3


async def test_3_the_ladder_ends_in_json_mode_with_the_schema_in_the_prompt(
    fake: ScriptedLLM,
) -> None:
    fake.rejects = {"json_schema", "json_object_schema", "tool"}
    fake.script["pick"] = ['{"number": 5}']
    result = await LLMGateway(fake.model).complete(_messages(), Pick, task="pick")
    assert result.rung == "json_prompt" and result.value.number == 5
    system = fake.calls[-1].messages[0]["content"]
    assert '"number"' in system and fake.calls[-1].form == "json_prompt"


def test_3_the_decoding_schema_has_no_limits_that_break_grammars() -> None:
    text = json.dumps(decoding_schema(em.ExtractionOutput))
    assert "maxLength" not in text and "pattern" not in text and "minLength" not in text
    assert '"statement"' in text and '"required"' in text
    assert "maxLength" in json.dumps(em.ExtractionOutput.model_json_schema())


# -- 4. bounded calls ----------------------------------------------------------------------
async def test_4_extraction_is_bounded_and_a_timeout_is_retried_once(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    timeout = litellm.Timeout("timed out", model="m", llm_provider="x")
    fake.script["extract_memory"] = [timeout, timeout, timeout, json.dumps({"facts": [FACT]})]
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=3)
    async with MemoryAgent(settings=_settings(tmp_path, fake.model), gateway=gateway) as agent:
        result = await agent.achat("u1", "I live in Oslo.", at=T0)
    assert result.write_status == "failed" and result.write_error is not None
    assert result.write_error.get("reason") == "timeout"
    assert fake.count("extract_memory") == 2  # not 4: the server may still be busy
    budget = fake.calls[[c.task for c in fake.calls].index("extract_memory")].params
    assert 0 < budget["max_tokens"] <= em.ANSWER_BASE_TOKENS + em.ANSWER_TOKENS_PER_TURN


@pytest.mark.parametrize(
    ("exc", "reason", "tries"),
    [
        (litellm.AuthenticationError("bad key", llm_provider="x", model="m"), "auth", 1),
        (
            litellm.AuthenticationError(
                "The api_key client option must be set", llm_provider="x", model="m"
            ),
            "missing_key",
            1,
        ),
        (
            litellm.NotFoundError("model foo not found", llm_provider="x", model="m"),
            "unknown_model",
            1,
        ),
        (
            litellm.BadRequestError("context too long", llm_provider="x", model="m"),
            "bad_request",
            1,
        ),
        (litellm.RateLimitError("slow down", llm_provider="x", model="m"), "rate_limit", 3),
    ],
)
async def test_4_errors_are_classified(
    fake: ScriptedLLM, exc: Exception, reason: str, tries: int
) -> None:
    assert classify(exc) == reason
    fake.script["pick"] = [exc] * 5
    with pytest.raises(ModelCallError) as info:
        await LLMGateway(fake.model, backoff_s=0, max_retries=2).complete(
            _messages(), Pick, task="pick"
        )
    assert info.value.reason == reason and fake.count("pick") == tries


async def test_4_a_missing_key_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    # A real LiteLLM call: the OpenAI client refuses before any network (as a 500 "Missing
    # credentials"), which must not be retried with backoff as a server error.
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    gateway = LLMGateway("gpt-4o-mini", backoff_s=0, max_retries=3)
    with pytest.raises(ModelCallError) as info:
        await gateway.complete(_messages(), Pick, task="pick")
    assert info.value.reason == "missing_key"
    (record,) = gateway.accounting.records
    assert record.attempts == 1 and not record.ok


# -- 5. a failed extraction keeps the message --------------------------------------------------
async def test_5_a_failed_extraction_keeps_the_episode(tmp_path: Path, fake: ScriptedLLM) -> None:
    fake.script["extract_memory"] = ["not json", '{"facts": [{"predicate": 3}]}']
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=0)
    async with MemoryAgent(settings=_settings(tmp_path, fake.model), gateway=gateway) as agent:
        result = await agent.achat("u1", "My sister Ana lives in Porto.", at=T0)
        memory = await agent.memory()
        found = await memory.recall("u1", "sister Ana")
        facts = await memory.facts("u1")
    assert result.write_status == "failed"
    assert facts == []  # all or nothing: no fact of the turn
    assert "Porto" in found.text  # the message itself is kept and recalled


# -- 6. honest accounting --------------------------------------------------------------------
async def test_6_failed_extraction_calls_are_in_the_turns_calls(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    fake.script["extract_memory"] = ["not json", "still not json"]
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=0)
    async with MemoryAgent(settings=_settings(tmp_path, fake.model), gateway=gateway) as agent:
        result = await agent.achat("u1", "I live in Oslo.", at=T0)
    extraction = [c for c in result.calls if c["task"] == "extract_memory"]
    assert len(extraction) == 2 and not any(c["ok"] for c in extraction)
    assert all(c["completion_tokens"] > 0 for c in extraction)


async def test_6_a_local_alias_of_a_known_name_is_not_billed_at_its_price() -> None:
    local = ModelConfig(
        model="gpt-4o",
        api_base="http://127.0.0.1:9/v1",
        options={"mock_response": '{"number": 2}'},
    )
    result = await LLMGateway(local).complete(_messages(), Pick, task="pick")
    (record,) = result.calls
    assert record.cost_usd == 0.0 and not record.price_known
    hosted = LLMGateway("gpt-4o", call_options={"*": {"mock_response": '{"number": 2}'}})
    (billed,) = (await hosted.complete(_messages(), Pick, task="pick")).calls
    assert billed.cost_usd > 0 and billed.price_known


def test_6_chat_exits_non_zero_when_a_turn_was_not_written(
    tmp_path: Path, fake: ScriptedLLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from memlane.app.cli import app

    monkeypatch.setenv("MEMLANE_EMBEDDER", "hash")
    monkeypatch.setenv("MEMLANE_CHECKPOINT_DB", str(tmp_path / "t.db"))
    monkeypatch.setenv("MEMLANE_LLM_MAX_RETRIES", "0")
    fake.script["extract_memory"] = ["no", "no"]
    result = CliRunner().invoke(
        app,
        ["--model", fake.model, "chat", "u1", "--store", f"sqlite:///{tmp_path / 'm.db'}"],
        input="I live in Oslo.\nI like tea.\n",
    )
    assert result.exit_code == 1, result.output
    assert "2 turns, 1 written, 1 failed" in result.output


# -- issue 10 item 5: no process-wide LiteLLM edits for a non-memlane model ------------------
def test_agent_with_a_hosted_model_leaves_litellm_globals_alone(tmp_path: Path) -> None:
    before = list(litellm.custom_provider_map)
    quiet = litellm.suppress_debug_info
    MemoryAgent(settings=_settings(tmp_path, "gpt-4o-mini"))
    assert litellm.custom_provider_map == before and litellm.suppress_debug_info == quiet
