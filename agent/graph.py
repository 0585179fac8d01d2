"""The agent loop as a LangGraph ``StateGraph``: recall, respond, extract, drafts, commit.

Nodes are small ``(state, runtime) -> update`` functions over
:class:`~memlane.agent.state.TurnState`
with the run context in ``runtime.context`` (:class:`~memlane.agent.state.AgentContext`). Other
graphs
can reuse them: :func:`add_memory_nodes` puts the memory-writing steps into any ``StateGraph``
whose state has the same keys.

Memory writing keeps the message first: ``keep`` stores the turn's episodes before the
model is asked anything, so a failed extraction never loses what the user said (recall finds
it; a retry can extract it later). Facts fail closed: a failed extraction or commit sets
``write_status="failed"`` and ``write_error`` (no fact is written: the commit is one atomic
write set), the remaining write steps are skipped, and the caller surfaces the error. It is
never reported as "0 facts". The failed calls stay in the turn's ``calls``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime
from functools import wraps
from typing import Any, Protocol

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Overwrite
from pydantic import ValidationError

from memlane.agent.state import AgentContext, TurnState
from memlane.llm.gateway import decoding_schema
from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.errors import ExtractionError, MemlaneError
from memlane.memory_graph.jobs import ExtractionJob
from memlane.memory_graph.limits import MAX_QUERY_CHARS
from memlane.memory_graph.model import SELF_ID, Episode, Fact, episode_id_for
from memlane.memory_graph.plans import planned_for, told_window
from memlane.memory_graph.timeutil import parse_time, to_iso, utcnow
from memlane.prompts import extract_memory, respond

__all__ = [
    "add_memory_nodes",
    "build_chat_graph",
    "build_write_graph",
    "commit_node",
    "drafts_node",
    "extract_node",
    "keep_node",
    "recall_node",
    "respond_node",
    "turn_episodes",
]

log = logging.getLogger(__name__)

Update = dict[str, Any]
Graph = StateGraph[TurnState, AgentContext, TurnState, TurnState]


class Node(Protocol):
    """A node of these graphs."""

    def __call__(self, state: TurnState, runtime: Runtime[AgentContext]) -> Awaitable[Update]: ...


def _turns(items: list[dict[str, Any]]) -> list[extract_memory.Turn]:
    return [
        extract_memory.Turn(role=t["role"], content=t["content"], at=t.get("at"))
        for t in items
        if t.get("content")
    ]


def _recent(state: TurnState, n: int) -> list[extract_memory.Turn]:
    return _turns(state.get("history", [])[-n:]) if n > 0 else []


# -- read and reply ----------------------------------------------------------------------------
async def settle_writes(ctx: AgentContext) -> None:
    """Read-your-writes with deferred writes: wait (bounded) for the user's queued writes."""
    wait = ctx.options.settle_writes_s
    if ctx.queue is None or not ctx.options.defer_writes or wait <= 0:
        return
    if not await ctx.queue.settle(ctx.user_id, wait):
        log.warning("memory of %s read with writes still queued after %.1fs", ctx.user_id, wait)


async def recall_node(state: TurnState, runtime: Runtime[AgentContext]) -> Update:
    """Retrieve the memory context for the user's message (after the user's queued writes)."""
    ctx = runtime.context
    await settle_writes(ctx)
    # A message may be far longer than a query; its end (where a question usually is) is
    # the query, so a valid message is never refused by the recall limit.
    query = state["message"][-MAX_QUERY_CHARS:]
    context = await ctx.memory.recall(ctx.user_id, query, token_budget=ctx.options.context_tokens)
    return {"memory": context.text}


async def respond_node(state: TurnState, runtime: Runtime[AgentContext]) -> Update:
    """Reply to the message; tokens go to the ``custom`` stream as ``{"token": ...}``."""
    ctx = runtime.context
    data = respond.RespondInput(
        user_name=ctx.user_name,
        now=parse_time(state["at"]),
        memory=state.get("memory", ""),
        recent_turns=_recent(state, ctx.options.recent_turns),
        message=state["message"],
    )
    messages = respond.build_messages(data)
    records: list[dict[str, Any]] = []
    if ctx.options.stream:
        parts: list[str] = []
        async for piece in ctx.gateway.stream(
            messages, task=respond.TASK, on_record=lambda r: records.append(r.to_dict())
        ):
            parts.append(piece)
            runtime.stream_writer({"token": piece})
        reply = "".join(parts)
    else:
        reply, record = await ctx.gateway.text(messages, task=respond.TASK)
        records.append(record.to_dict())
    turn = {"role": "user", "content": state["message"], "at": state["at"]}
    answer = {"role": "assistant", "content": reply, "at": to_iso(utcnow())}
    # Overwrite, not the append reducer: the thread keeps only the last history_messages.
    history = [*state.get("history", []), turn, answer][-ctx.options.history_messages :]
    return {"reply": reply, "history": Overwrite(history), "calls": records}


# -- write -------------------------------------------------------------------------------------
def _write_step(fn: Node) -> Node:
    """Skip after a failed step; turn a MemlaneError into ``write_status="failed"``."""

    @wraps(fn)
    async def step(state: TurnState, runtime: Runtime[AgentContext]) -> Update:
        if state.get("write_status") in ("failed", "skipped"):
            return {}
        try:
            return await fn(state, runtime)
        except MemlaneError as exc:
            log.warning("memory write for %s failed in %s: %s", runtime.context.user_id,
                        getattr(fn, "__name__", "write"), exc)  # fmt: skip
            # The calls that failed are part of the turn's bill (tokens, cost, count).
            failed = [c.to_dict() for c in getattr(exc, "calls", ())]
            update: Update = {
                "write_status": "failed",
                "write_error": exc.to_dict(),
                "calls": [*state.get("calls", []), *failed],
            }
            job = await _record_failure(runtime.context, state.get("job"), exc)
            if job is not None:
                update["job"] = job
            return update

    return step


async def _record_failure(
    ctx: AgentContext, job: dict[str, Any] | None, exc: MemlaneError
) -> dict[str, Any] | None:
    """Mark the turn's stored job failed with the error's code (for ``retry-failed``)."""
    if job is None:
        return None  # the episodes were not stored either: the caller sees the error
    failed = ExtractionJob.model_validate(job).failed(
        exc.code, str(exc), getattr(exc, "reason", None)
    )
    try:
        await ctx.memory.record_jobs(ctx.user_id, [failed])
    except MemlaneError as store_exc:  # the job stays pending: resumed on the next start
        log.error("could not record the failed job %s: %s", failed.id, store_exc)
        return None
    return failed.model_dump(mode="json")


async def _names(ctx: AgentContext, facts: list[Fact]) -> dict[str, str]:
    ids = {i for f in facts for i in (f.subject_id, f.object_id) if i and i != SELF_ID}
    entities = await ctx.memory.store.get_entities(ctx.user_id, sorted(ids)) if ids else []
    return {SELF_ID: "user", **{e.id: e.name for e in entities}}


@_write_step
async def extract_node(state: TurnState, runtime: Runtime[AgentContext]) -> Update:
    """ONE model call for the turn: new facts, and which shown facts they restate/contradict."""
    ctx = runtime.context
    new = _turns(state.get("turns", []))
    said = "\n".join(t.content for t in new if t.role == "user")
    if not said.strip():
        return {"extraction": {"entities": [], "facts": []}, "short_ids": {}}
    k = ctx.options.candidates
    found = await ctx.memory.candidates(ctx.user_id, said[-MAX_QUERY_CHARS:], k) if k > 0 else []
    names = await _names(ctx, found)
    short_ids = {f"F{i + 1}": fact.id for i, fact in enumerate(found)}
    registry = ctx.memory.registry
    # A plan is shown as the prompt tells one: valid_at is the day it is for (memory_graph.plans).
    plans = {f.id: planned_for(f) for f in found if registry.is_plan(f.predicate)}
    candidates = [
        extract_memory.CandidateFact(
            short_id=f"F{i + 1}",
            subject=names.get(fact.subject_id, fact.subject_id),
            predicate=fact.predicate,
            object=fact.value if fact.object_id is None else names.get(fact.object_id),
            statement=fact.statement,
            polarity=fact.polarity,
            valid_at=plans.get(fact.id) or fact.valid_at,
            invalid_at=None if plans.get(fact.id) else fact.invalid_at or fact.expired_at,
        )
        for i, fact in enumerate(found)
    ]
    data = extract_memory.ExtractionInput(
        user_name=ctx.user_name,
        turn_time=parse_time(state["at"]),
        new_turns=new,
        recent_turns=_recent(state, ctx.options.extract_recent_turns),
        candidates=candidates,
        predicates=extract_memory.ExtractionInput.predicate_lines(ctx.memory.registry),
    )
    result = await ctx.extraction_gateway.complete(
        extract_memory.build_messages(data),
        extract_memory.ExtractionOutput,
        task=extract_memory.TASK,
        validation_context=extract_memory.validation_context(data, ctx.memory.registry),
        max_tokens=extract_memory.answer_budget(data),
        schema=extract_memory.decoding_schema(
            decoding_schema(extract_memory.ExtractionOutput), data
        ),
    )
    calls = [*state.get("calls", []), *(c.to_dict() for c in result.calls)]
    return {"extraction": result.value.model_dump(), "short_ids": short_ids, "calls": calls}


def _when(value: str | None) -> datetime | None:
    return parse_time(value, field="valid_at") if value else None


def turn_episodes(state: TurnState, user_id: str) -> list[Episode]:
    """The episodes a turn's messages become (ids are content hashes unless given)."""
    return _episodes(state, user_id)


def _episodes(state: TurnState, user_id: str) -> list[Episode]:
    now = utcnow()
    session = state.get("session_id")
    out = []
    for t in state.get("turns", []):
        at = parse_time(t.get("at") or state["at"])
        out.append(
            Episode(
                id=t.get("id") or episode_id_for(session, t["role"], at, t["content"]),
                user_id=user_id,
                session_id=session,
                role=t["role"],
                speaker=t.get("speaker"),
                content=t["content"],
                occurred_at=at,
                recorded_at=now,
            )
        )
    return out


@_write_step
async def keep_node(state: TurnState, runtime: Runtime[AgentContext]) -> Update:
    """Store the turn's messages as episodes BEFORE extraction (idempotent): whatever happens
    to the model call, the message is kept."""
    ctx = runtime.context
    episodes = _episodes(state, ctx.user_id)
    stored = state.get("job")  # a retried or resumed job is already in the store
    if stored is not None:
        job = ExtractionJob.model_validate(stored)
    else:
        at = parse_time(state["at"])
        job = ExtractionJob.for_turn(
            ctx.user_id, state.get("session_id"), [ep.id for ep in episodes], at
        )
    report = await ctx.memory.add_episodes(episodes, jobs=[] if stored is not None else [job])
    return {
        "episodes": [ep.model_dump(mode="json") for ep in episodes],
        "kept": report.episodes_added,
        "job": job.model_dump(mode="json"),
    }


@_write_step
async def drafts_node(state: TurnState, runtime: Runtime[AgentContext]) -> Update:
    """Map the model's answer to fact drafts: short ids to fact ids, names to kinds."""
    ctx = runtime.context
    out = extract_memory.ExtractionOutput.model_validate(state.get("extraction") or {})
    short_ids = state.get("short_ids", {})
    episodes = [Episode.model_validate(e) for e in state.get("episodes", [])] or _episodes(
        state, ctx.user_id
    )
    sources = [ep.id for ep in episodes if ep.role == "user"] or [ep.id for ep in episodes]
    kinds = {e.name.strip().casefold(): e.kind for e in out.entities}
    registry = ctx.memory.registry
    drafts = []
    for i, f in enumerate(out.facts):
        valid_at, invalid_at = _when(f.valid_at), _when(f.invalid_at)
        if registry.is_plan(f.predicate):
            valid_at, invalid_at = told_window(valid_at, invalid_at)
        try:
            drafts.append(
                FactDraft(
                    subject=f.subject,
                    subject_kind=kinds.get(f.subject.strip().casefold(), "person"),
                    predicate=f.predicate,
                    object=f.object,
                    object_kind=f.object_kind,
                    statement=f.statement,
                    kind=f.kind,
                    polarity=f.polarity,
                    confidence=f.confidence,
                    # A story with only an end keeps no start (the reconciler stores it
                    # as held until then); its end is not its start.
                    valid_at=valid_at,
                    invalid_at=invalid_at,
                    episode_ids=sources,
                    contradicts=[short_ids[s] for s in f.contradicts],
                    restates=[short_ids[s] for s in f.restates],
                    corrects=[short_ids[s] for s in f.corrects],
                )
            )
        except (ValidationError, KeyError) as exc:
            raise ExtractionError(f"fact {i} cannot be a draft: {exc}", where="extraction") from exc
    return {
        "drafts": [d.model_dump(mode="json") for d in drafts],
        "episodes": [ep.model_dump(mode="json") for ep in episodes],
    }


@_write_step
async def commit_node(state: TurnState, runtime: Runtime[AgentContext]) -> Update:
    """Apply the turn's episodes and drafts as ONE atomic write (``Memory.commit``)."""
    ctx = runtime.context
    drafts = [FactDraft.model_validate(d) for d in state.get("drafts", [])]
    episodes = [Episode.model_validate(e) for e in state.get("episodes", [])]
    job = state.get("job")
    done = [ExtractionJob.model_validate(job).done()] if job else []
    # The facts and the job's "done" land in one write: a crash leaves either both or neither.
    report = await ctx.memory.commit(ctx.user_id, drafts, episodes, jobs=done)
    # The episodes ``keep`` stored count as this turn's, though commit found them there.
    report.episodes_added += state.get("kept", 0)
    report.episodes_skipped = max(0, report.episodes_skipped - state.get("kept", 0))
    out: Update = {"report": report.model_dump(mode="json"), "write_status": "committed"}
    if done:
        out["job"] = done[0].model_dump(mode="json")
    return out


def _after_write_step(state: TurnState) -> str:
    return "stop" if state.get("write_status") == "failed" else "next"


def add_memory_nodes(graph: Graph, after: str) -> str:
    """Add ``keep -> extract -> drafts -> commit`` after node ``after`` (``START`` allowed).

    Returns:
        The name of the last node (``"commit"``).
    """
    graph.add_node("keep", keep_node)
    graph.add_node("extract", extract_node)
    graph.add_node("drafts", drafts_node)
    graph.add_node("commit", commit_node)
    graph.add_edge(after, "keep")
    graph.add_conditional_edges("keep", _after_write_step, {"next": "extract", "stop": END})
    graph.add_conditional_edges("extract", _after_write_step, {"next": "drafts", "stop": END})
    graph.add_conditional_edges("drafts", _after_write_step, {"next": "commit", "stop": END})
    return "commit"


def build_write_graph() -> Graph:
    """``keep -> extract -> drafts -> commit``: what ingestion and the queue run."""
    graph: Graph = StateGraph(TurnState, context_schema=AgentContext)
    graph.add_edge(add_memory_nodes(graph, START), END)
    return graph


def build_chat_graph(*, defer: Node | None = None) -> Graph:
    """``recall -> respond -> keep -> extract -> drafts -> commit``.

    Args:
        defer: when given, writing is handed to this node instead (``recall -> respond ->
            defer``), which queues the write steps to run in the background.
    """
    graph: Graph = StateGraph(TurnState, context_schema=AgentContext)
    graph.add_node("recall", recall_node)
    graph.add_node("respond", respond_node)
    graph.add_edge(START, "recall")
    graph.add_edge("recall", "respond")
    if defer is not None:
        graph.add_node("defer", defer)
        graph.add_edge("respond", "defer")
        graph.add_edge("defer", END)
    else:
        graph.add_edge(add_memory_nodes(graph, "respond"), END)
    return graph
