"""The LLM gateway, through litellm.acompletion and a scripted provider (no network)."""

from __future__ import annotations

import copy

import litellm
import pytest
from pydantic import BaseModel, ConfigDict, Field

from memlane.llm.gateway import InvalidOutputError, LLMGateway, decoding_schema, is_transient
from memlane.llm.testing import ScriptedLLM
from memlane.memory_graph.errors import ExtractionError, LLMError

pytestmark = pytest.mark.unit

SYSTEM = {"role": "system", "content": "TASK: pick\nAnswer with JSON."}


class Pick(BaseModel):
    """A number the model picked."""

    model_config = ConfigDict(extra="forbid")

    number: int = Field(ge=0, le=10)


def _messages() -> list[dict[str, str]]:
    return [SYSTEM, {"role": "user", "content": "pick a number"}]


@pytest.fixture
def fake():
    with ScriptedLLM.installed() as fake:
        yield fake


async def test_valid_answer_is_validated_and_accounted(fake: ScriptedLLM) -> None:
    fake.script["pick"] = ['{"number": 3}']
    gateway = LLMGateway(fake.model, backoff_s=0)
    messages = _messages()
    before = copy.deepcopy(messages)
    result = await gateway.complete(messages, Pick, task="pick")
    assert result.value == Pick(number=3)
    assert messages == before  # never mutated
    (record,) = result.calls
    assert record.ok and record.model == fake.model
    assert record.prompt_tokens > 0 and record.completion_tokens > 0
    assert record.cost_usd == 0.0  # not in LiteLLM's cost map
    assert gateway.accounting.totals()["calls"] == 1


async def test_code_fences_are_accepted(fake: ScriptedLLM) -> None:
    fake.script["pick"] = ['```json\n{"number": 4}\n```']
    result = await LLMGateway(fake.model).complete(_messages(), Pick, task="pick")
    assert result.value.number == 4


async def test_one_repair_retry_shows_the_validation_error(fake: ScriptedLLM) -> None:
    fake.script["pick"] = ['{"number": 42}', '{"number": 7}']
    messages = _messages()
    result = await LLMGateway(fake.model).complete(messages, Pick, task="pick")
    assert result.value.number == 7
    assert [c.ok for c in result.calls] == [False, True]
    repair = fake.calls[1].messages
    assert repair[-2] == {"role": "assistant", "content": '{"number": 42}'}
    assert "number" in repair[-1]["content"] and "less than or equal" in repair[-1]["content"]
    assert len(messages) == 2  # the caller's list did not grow


@pytest.mark.parametrize(
    "bad",
    ["", "not json", '{"number": "x"}', '{"number": 1, "extra": 2}', "[1, 2]", "{"],
)
async def test_invalid_twice_raises_with_the_raw_output(fake: ScriptedLLM, bad: str) -> None:
    fake.script["pick"] = [bad, bad]
    gateway = LLMGateway(fake.model)
    with pytest.raises(InvalidOutputError) as info:
        await gateway.complete(_messages(), Pick, task="pick")
    assert isinstance(info.value, ExtractionError)
    assert info.value.raw == bad
    assert info.value.where == "pick"
    assert fake.count("pick") == 2
    assert gateway.accounting.totals()["failed"] == 2


async def test_transient_errors_are_retried_with_backoff(fake: ScriptedLLM) -> None:
    rate = litellm.RateLimitError("slow down", llm_provider="x", model="m")
    fake.script["pick"] = [rate, rate, '{"number": 1}']
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=3)
    result = await gateway.complete(_messages(), Pick, task="pick")
    assert result.value.number == 1
    assert result.calls[-1].attempts == 3


async def test_transient_errors_give_up_after_max_retries(fake: ScriptedLLM) -> None:
    fake.script["pick"] = [litellm.Timeout("t", model="m", llm_provider="x")] * 3
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=1)
    with pytest.raises(LLMError) as info:
        await gateway.complete(_messages(), Pick, task="pick")
    assert not isinstance(info.value, ExtractionError)
    assert fake.count("pick") == 2


async def test_permanent_errors_are_not_retried(fake: ScriptedLLM) -> None:
    fake.script["pick"] = [
        litellm.AuthenticationError("bad key", llm_provider="x", model="m"),
        '{"number": 1}',
    ]
    with pytest.raises(LLMError, match="bad key"):
        await LLMGateway(fake.model, backoff_s=0).complete(_messages(), Pick, task="pick")
    assert fake.count("pick") == 1


def test_transient_classification() -> None:
    assert is_transient(litellm.RateLimitError("x", llm_provider="p", model="m"))
    assert is_transient(litellm.ServiceUnavailableError("x", llm_provider="p", model="m"))
    assert is_transient(litellm.APIConnectionError("x", llm_provider="p", model="m"))
    assert not is_transient(litellm.BadRequestError("x", llm_provider="p", model="m"))
    assert not is_transient(ValueError("x"))


async def test_text_and_stream(fake: ScriptedLLM) -> None:
    fake.script["pick"] = ["hello there", "streamed reply"]
    gateway = LLMGateway(fake.model)
    text, record = await gateway.text(_messages(), task="pick")
    assert text == "hello there" and record.ok
    seen = []
    pieces = [p async for p in gateway.stream(_messages(), task="pick", on_record=seen.append)]
    assert "".join(pieces) == "streamed reply"
    assert seen and seen[0].ok
    assert gateway.accounting.totals("pick")["calls"] == 2


async def test_empty_text_is_an_error(fake: ScriptedLLM) -> None:
    fake.script["pick"] = [""]
    with pytest.raises(LLMError, match="empty"):
        await LLMGateway(fake.model).text(_messages(), task="pick")


async def test_schema_models_get_a_json_schema_response_format() -> None:
    gateway = LLMGateway("gpt-4o-mini")
    fmt = gateway.response_format(Pick)
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"] == decoding_schema(Pick)
    # A model LiteLLM does not know starts at the top of the ladder too.
    assert LLMGateway("memlane/offline").response_format(Pick)["type"] == "json_schema"


async def test_hosted_model_cost_comes_from_the_local_cost_map() -> None:
    gateway = LLMGateway("gpt-4o-mini", call_options={"pick": {"mock_response": '{"number": 2}'}})
    result = await gateway.complete(_messages(), Pick, task="pick")
    assert result.value.number == 2
    assert result.calls[0].cost_usd > 0
