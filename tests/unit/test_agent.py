"""MemoryAgent end to end on the embedded store, with fakes only at the LLM boundary.

The fake (``memlane.llm.testing.ScriptedLLM``) is a LiteLLM provider: every call goes through
``litellm.acompletion`` and the real gateway, and is counted with its prompt.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import litellm
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memlane.agent.api import MemoryAgent
from memlane.agent.settings import Settings
from memlane.agent.state import AgentOptions
from memlane.llm.gateway import LLMGateway
from memlane.llm.testing import ScriptedLLM
from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.model import SELF_ID, Entity, Fact, WriteSet, fact_id_for

pytestmark = pytest.mark.unit

T0 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
USER = "u1"


def _settings(tmp_path: Path, model: str, **kw: Any) -> Settings:
    return Settings(
        store=f"sqlite:///{tmp_path / 'memory.db'}",
        embedder="hash",
        model=model,
        checkpoint_db=str(tmp_path / "threads.db"),
        **kw,
    )


@pytest.fixture
def fake() -> Any:
    with ScriptedLLM.installed() as fake:
        yield fake


@pytest.fixture
async def agent(tmp_path: Path, fake: ScriptedLLM) -> AsyncIterator[MemoryAgent]:
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=0)
    async with MemoryAgent(settings=_settings(tmp_path, fake.model), gateway=gateway) as agent:
        yield agent


async def _export(agent: MemoryAgent, user_id: str = USER) -> str:
    memory = await agent.memory()
    return json.dumps([r async for r in memory.export(user_id)], sort_keys=True, default=str)


async def _export_facts(agent: MemoryAgent, user_id: str = USER) -> str:
    """The export without episodes: what a failed turn must leave unchanged (its message is
    kept as an episode all the same)."""
    memory = await agent.memory()
    records = [r async for r in memory.export(user_id) if r.get("type") != "episode"]
    return json.dumps(records, sort_keys=True, default=str)


async def _has_message(agent: MemoryAgent, text: str, user_id: str = USER) -> bool:
    memory = await agent.memory()
    records = [r async for r in memory.export(user_id)]
    return any(r.get("type") == "episode" and r.get("content") == text for r in records)


async def _current(agent: MemoryAgent, predicate: str) -> list[str]:
    memory = await agent.memory()
    names = {e.id: e.name for e in await memory.entities(USER)}
    facts = await memory.facts(USER, predicate=predicate, current_only=True)
    return [names.get(f.object_id, "") if f.object_id else f.value or "" for f in facts
            if f.polarity == "positive"]  # fmt: skip


# -- the loop ----------------------------------------------------------------------------------
async def test_a_turn_replies_and_commits(agent: MemoryAgent, fake: ScriptedLLM) -> None:
    tokens: list[str] = []
    result = await agent.achat(USER, "I live in Lisbon and I love sushi.", at=T0,
                               on_token=tokens.append)  # fmt: skip
    assert result.write_status == "committed" and result.report is not None
    assert result.report.facts_added == 2 and result.report.episodes_added == 1
    assert "".join(tokens) == result.reply and result.reply.startswith("[memlane offline model]")
    moved = await agent.achat(USER, "I moved to Berlin last month.", at=T0 + timedelta(days=60))
    assert moved.report is not None and moved.report.facts_closed == 1
    assert await _current(agent, "lives_in") == ["Berlin"]
    memory = await agent.memory()
    (lisbon, berlin) = await memory.history(USER, "user", "lives_in")
    assert lisbon.invalid_at == berlin.valid_at == datetime(2024, 2, 1, tzinfo=UTC)


async def test_thread_history_reaches_the_next_prompt(
    agent: MemoryAgent, fake: ScriptedLLM
) -> None:
    await agent.achat(USER, "My dog Rex is three.", session_id="s1", at=T0)
    await agent.achat(USER, "What is my dog's name?", session_id="s1", at=T0)
    reply_prompt = [c for c in fake.calls if c.task == "respond"][-1].messages
    assert any(m["content"] == "My dog Rex is three." for m in reply_prompt[1:-1])
    await agent.achat(USER, "hello", session_id="other", at=T0)
    other = [c for c in fake.calls if c.task == "respond"][-1].messages
    assert len(other) == 2  # a new thread starts empty


# -- cost ------------------------------------------------------------------------------------
TURNS = [
    "Hi, my name is Maya and I live in Lisbon.",
    "I work at Acme Corp as a data analyst.",
    "I love sushi and I go surfing every weekend.",
    "I moved to Berlin last month.",
    "Where do I live now?",
]


async def test_at_most_one_memory_call_per_turn(agent: MemoryAgent, fake: ScriptedLLM) -> None:
    per_turn = []
    for i, text in enumerate(TURNS):
        before_all, before_extract = fake.count(), fake.count("extract_memory")
        await agent.achat(USER, text, at=T0 + timedelta(days=i))
        per_turn.append((fake.count() - before_all, fake.count("extract_memory") - before_extract))
    assert all(extract <= 1 and total <= 2 for total, extract in per_turn), per_turn
    rows = [r.to_dict() for r in agent.calls]
    print("\ntokens per turn (prompt/completion) by task:")
    for r in rows:
        print(f"  {r['task']:<15} {r['prompt_tokens']:>5} / {r['completion_tokens']:>4}")


async def _bulk_load(agent: MemoryAgent, n: int) -> None:
    memory = await agent.memory()
    embedder = make_embedder("hash")
    places = ["Paris", "Rome", "Oslo", "Quito", "Lima", "Cairo", "Seoul", "Perth"]
    things = ["jazz", "chess", "tea", "opera", "kayaks", "stamps", "bonsai", "salsa"]
    facts = []
    for i in range(n):
        predicate = ("likes", "visited", "note", "owns", "goal")[i % 5]
        value = f"{things[i % 8]} {places[(i // 8) % 8]} {i}"
        statement = f"The user {predicate.replace('_', ' ')} {value}."
        valid = T0 - timedelta(days=n - i)
        facts.append(
            Fact(
                id=fact_id_for(SELF_ID, predicate, value, "positive", valid, f"bulk{i}"),
                user_id=USER, subject_id=SELF_ID, predicate=predicate, value=value,
                statement=statement, valid_at=valid, recorded_at=valid,
            )
        )  # fmt: skip
    vectors = embedder.embed([f.statement for f in facts])
    me = Entity(id=SELF_ID, user_id=USER, name="user", kind="self", created_at=T0)
    await memory.store.apply(
        WriteSet(
            user_id=USER,
            entities=[me],
            facts=facts,
            fact_vectors={f.id: vectors[i] for i, f in enumerate(facts)},
        )
    )


async def test_extraction_overhead_stays_small_with_10k_facts(
    agent: MemoryAgent, fake: ScriptedLLM
) -> None:
    await _bulk_load(agent, 10_000)
    # Two earlier turns of the thread, so the prompt carries its recent-message context too.
    for i, warm_up in enumerate(TURNS[:2]):
        await agent.achat(USER, warm_up, session_id="s", at=T0 + timedelta(minutes=i))
    text = "I moved to Oslo last month and I really love jazz and tea these days."
    result = await agent.achat(USER, text, session_id="s", at=T0 + timedelta(minutes=5))
    assert result.write_status == "committed"
    call = [c for c in fake.calls if c.task == "extract_memory"][-1]
    shown = [ln for ln in call.messages[1]["content"].splitlines() if ln.startswith("F")]
    assert 0 < len(shown) <= agent.options.candidates  # chosen by retrieval, capped
    turn_tokens = litellm.token_counter(model="gpt-4o", text=text)
    overhead = call.prompt_tokens - turn_tokens
    print(f"\nextraction prompt with 10k facts: {call.prompt_tokens} tokens, "
          f"overhead {overhead} (turn {turn_tokens}), {len(shown)} candidates")  # fmt: skip
    assert overhead < 1500


# -- robustness ------------------------------------------------------------------------------
VALID_FACT = {"predicate": "lives_in", "object": "Oslo", "statement": "Lives in Oslo."}
BAD_OUTPUTS = {
    "malformed json": '{"facts": [',
    "schema violation": json.dumps({"facts": [{"predicate": "lives_in"}]}),
    "wrong type": json.dumps({"facts": "Oslo"}),
    "unknown fact id": json.dumps({"facts": [{**VALID_FACT, "contradicts": ["F99"]}]}),
    "real id instead of short id": json.dumps({"facts": [{**VALID_FACT, "restates": ["f_1"]}]}),
    "unknown predicate": json.dumps({"facts": [{**VALID_FACT, "predicate": "zodiac_sign"}]}),
    "empty": "",
    "not an object": "[]",
    "exception": litellm.BadRequestError("model exploded", llm_provider="x", model="m"),
}


@pytest.mark.parametrize("name", sorted(BAD_OUTPUTS))
async def test_bad_model_output_writes_nothing_and_says_so(
    agent: MemoryAgent, fake: ScriptedLLM, name: str
) -> None:
    await agent.achat(USER, "I live in Lisbon and I love sushi.", at=T0)
    before = await _export_facts(agent)
    bad = BAD_OUTPUTS[name]
    fake.script["extract_memory"] = [bad, bad]  # the repair retry gets garbage too
    result = await agent.achat(USER, "I moved to Oslo last month.", at=T0 + timedelta(days=9))
    assert result.write_status == "failed" and not result.ok
    assert result.write_error and result.write_error["code"] in ("extraction_error", "llm_error")
    assert result.report is None
    assert result.reply  # the user still got an answer
    assert await _export_facts(agent) == before  # no partial write of facts
    assert await _has_message(agent, "I moved to Oslo last month.")  # the message is kept
    assert await _current(agent, "lives_in") == ["Lisbon"]


async def test_repair_retry_recovers(agent: MemoryAgent, fake: ScriptedLLM) -> None:
    fake.script["extract_memory"] = ["oops", json.dumps({"facts": [VALID_FACT]})]
    result = await agent.achat(USER, "I live in Oslo.", at=T0)
    assert result.write_status == "committed" and await _current(agent, "lives_in") == ["Oslo"]
    assert fake.count("extract_memory") == 2


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    garbage=st.one_of(
        st.text(max_size=200),
        st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda kids: st.lists(kids, max_size=3)
            | st.dictionaries(st.sampled_from(["facts", "entities", "predicate", "object",
                                               "statement", "restates", "x"]), kids, max_size=4),
            max_leaves=12,
        ).map(json.dumps),
    )
)  # fmt: skip
async def test_random_garbage_never_corrupts_memory(
    agent: MemoryAgent, fake: ScriptedLLM, garbage: str
) -> None:
    if not await _current(agent, "lives_in"):
        await agent.achat(USER, "I live in Lisbon.", at=T0)
    before = await _export_facts(agent)
    fake.script["extract_memory"] = [garbage, garbage]
    result = await agent.achat(USER, "I moved to Oslo.", at=T0 + timedelta(days=1))
    if result.write_status == "failed":
        assert result.write_error and await _export_facts(agent) == before
    else:  # it happened to be a valid (usually empty) answer: then it was committed honestly
        assert result.write_status == "committed" and result.report is not None
    assert "Lisbon" in await _current(agent, "lives_in") or result.write_status == "committed"


# -- deferred writes and ingestion -----------------------------------------------------------
async def test_deferred_writes_are_ordered_and_failures_visible(
    tmp_path: Path, fake: ScriptedLLM
) -> None:
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=0)
    options = AgentOptions(defer_writes=True)
    agent = MemoryAgent(settings=_settings(tmp_path, fake.model), gateway=gateway, options=options)
    async with agent:
        first = await agent.achat(USER, "I live in Lisbon.", at=T0)
        second = await agent.achat(
            USER, "I moved to Berlin last month.", at=T0 + timedelta(days=90)
        )
        assert first.write_status == second.write_status == "queued"
        await agent.drain()
        assert await _current(agent, "lives_in") == ["Berlin"]
        fake.script["extract_memory"] = ["nope", "nope"]
        await agent.achat(USER, "I moved to Rome.", at=T0 + timedelta(days=99))
    (failure,) = agent.write_errors(USER)  # drained on close, and kept
    assert failure.code == "extraction_error" and "twice" in failure.message
    assert await _current_after_reopen(tmp_path, fake) == ["Berlin"]  # nothing half-written


@pytest.mark.parametrize("settle_s", [10.0, 0.0])
async def test_deferred_write_is_read_by_the_next_turn(
    tmp_path: Path, fake: ScriptedLLM, settle_s: float
) -> None:
    # Extraction takes 0.3 s, as a real model's does: the first turn's reply does not wait for
    # it, but the next turn reads memory only after it (read-your-writes), unless told not to.
    fake.latency_s["extract_memory"] = 0.3
    gateway = LLMGateway(fake.model, backoff_s=0, max_retries=0)
    options = AgentOptions(defer_writes=True, settle_writes_s=settle_s)
    agent = MemoryAgent(settings=_settings(tmp_path, fake.model), gateway=gateway, options=options)
    async with agent:
        first = await agent.achat(USER, "I live in Lisbon.", at=T0)
        assert first.write_status == "queued"
        second = await agent.achat(USER, "Where do I live?", at=T0 + timedelta(minutes=1))
        early = (await agent.recall(USER, "where do I live")).text
    if settle_s:
        assert "Lisbon" in second.memory and "Lisbon" in early
    else:  # the facts were still in flight, but the message was stored before "queued"
        assert "I live in Lisbon." in second.memory


async def _current_after_reopen(tmp_path: Path, fake: ScriptedLLM) -> list[str]:
    async with MemoryAgent(settings=_settings(tmp_path, fake.model)) as agent:
        return await _current(agent, "lives_in")


async def test_ingest_is_one_call_per_batch_and_stops_at_a_bad_batch(
    agent: MemoryAgent, fake: ScriptedLLM
) -> None:
    messages = [
        {"role": "user", "content": "I live in Lisbon.", "at": T0},
        {"role": "assistant", "content": "Nice!", "at": T0},
        {"role": "user", "content": "I love sushi.", "at": T0},
        {"role": "user", "content": "I moved to Berlin last month.", "at": T0 + timedelta(days=60)},
    ]
    result = await agent.ingest(USER, messages, batch_turns=2)
    assert (result.batches, result.llm_calls) == (2, 2)
    assert result.facts_added == 3 and result.facts_closed == 1
    before = await _export_facts(agent)
    fake.script["extract_memory"] = ["{", "{"]
    from memlane.memory_graph.errors import ExtractionError

    with pytest.raises(ExtractionError) as info:
        await agent.ingest(USER, [{"content": "I moved to Rome."}])
    assert info.value.where and info.value.where.startswith("messages[0]")
    assert await _export_facts(agent) == before
    assert await _has_message(agent, "I moved to Rome.")  # kept, and its failure recorded
    (failed,) = await (await agent.memory()).jobs(USER, ("failed",))
    assert failed.code == "extraction_error"


BAD_MESSAGES = {
    "control character": ({"content": "I live in\x00 Lisbon"}, "messages[1].content"),
    "blank": ({"content": "   "}, "messages[1].content"),
    "unknown role": ({"content": "hi", "role": "bot"}, "messages[1].role"),
    "bad id": ({"content": "hi", "id": "not an id"}, "messages[1].id"),
    "bad time": ({"content": "hi", "at": "someday"}, "messages[1].at"),
}


@pytest.mark.parametrize("name", sorted(BAD_MESSAGES))
async def test_bad_ingest_message_is_an_input_error_naming_the_field(
    agent: MemoryAgent, fake: ScriptedLLM, name: str
) -> None:
    from memlane.memory_graph.errors import InputError

    before = await _export(agent)
    message, where = BAD_MESSAGES[name]
    with pytest.raises(InputError) as info:
        await agent.ingest(USER, ["I love sushi.", message])
    assert info.value.where == where
    assert fake.count() == 0 and await _export(agent) == before  # checked before any work


async def test_bad_chat_message_is_an_input_error(agent: MemoryAgent, fake: ScriptedLLM) -> None:
    from memlane.memory_graph.errors import InputError

    with pytest.raises(InputError, match="control characters") as info:
        await agent.achat(USER, "hello\x07 there")
    assert info.value.where == "message"
    with pytest.raises(InputError) as info:
        await agent.achat(USER, "hello", session_id="no spaces")
    assert info.value.where == "session_id"
    assert fake.count() == 0 and await _export(agent) == "[]"


async def test_a_story_with_only_an_end_keeps_no_start(
    agent: MemoryAgent, fake: ScriptedLLM
) -> None:
    """ "I lived in Lisbon until 2012": the model gives only an end; the draft must not take
    the end for the start too (a window of no time that is never true)."""
    story = {"predicate": "lives_in", "object": "Lisbon", "object_kind": "place",
             "statement": "The user lived in Lisbon until 2012.",
             "invalid_at": "2012-01-01"}  # fmt: skip
    fake.script["extract_memory"] = [json.dumps({"facts": [story]})]
    result = await agent.achat(USER, "I lived in Lisbon until 2012.", at=T0)
    assert result.write_status == "committed"
    memory = await agent.memory()
    (lisbon,) = await memory.facts(USER, predicate="lives_in", as_of="2011-06-01")
    assert lisbon.valid_at is None and lisbon.invalid_at == datetime(2012, 1, 1, tzinfo=UTC)


async def test_a_dated_plan_holds_until_the_day_it_is_for(
    agent: MemoryAgent, fake: ScriptedLLM
) -> None:
    """The model tells a plan with the day it is for (valid_at); memory holds the plan from
    the saying until that day, and shows it to the model again with that day."""
    plan = {"predicate": "plans", "object": "move to Ghent", "kind": "event",
            "statement": "The user plans to move to Ghent.", "valid_at": "2024-01-17"}  # fmt: skip
    fake.script["extract_memory"] = [json.dumps({"facts": [plan]})]
    result = await agent.achat(USER, "I'm relocating to Ghent next week.", at=T0)
    assert result.write_status == "committed"
    memory = await agent.memory()
    (held,) = await memory.facts(USER, predicate="plans", as_of=T0 + timedelta(days=1))
    assert held.valid_at == T0 and held.invalid_at == datetime(2024, 1, 17, tzinfo=UTC)
    assert await memory.facts(USER, predicate="plans", as_of="2024-01-18") == []
    await agent.achat(USER, "Still packing for the Ghent move.", at=T0 + timedelta(days=2))
    extraction = [c for c in fake.calls if c.task == "extract_memory"][-1]
    assert "| plans | move to Ghent | 2024-01-17..now" in extraction.messages[-1]["content"]


# -- through LiteLLM's own mock --------------------------------------------------------------
async def test_whole_loop_through_litellm_mock_response(tmp_path: Path) -> None:
    extraction = {
        "entities": [{"name": "Porto", "kind": "place"}],
        "facts": [{"predicate": "lives_in", "object": "Porto", "object_kind": "place",
                   "statement": "The user lives in Porto.", "valid_at": "2023-12-01"}],
    }  # fmt: skip
    gateway = LLMGateway(
        "gpt-4o-mini",
        call_options={
            "extract_memory": {"mock_response": json.dumps(extraction)},
            "respond": {"mock_response": "Porto is lovely!"},
        },
    )
    settings_ = _settings(tmp_path, "gpt-4o-mini")
    async with MemoryAgent(settings=settings_, gateway=gateway) as agent:
        result = await agent.achat(USER, "I live in Porto since December.", at=T0)
        assert result.reply == "Porto is lovely!"
        assert result.write_status == "committed" and await _current(agent, "lives_in") == ["Porto"]
        totals = gateway.accounting.by_task()
        assert totals["extract_memory"]["calls"] == totals["respond"]["calls"] == 1
        assert totals["extract_memory"]["cost_usd"] > 0  # priced from LiteLLM's local map
