"""The agent loop's typed state and run context.

State is what a LangGraph checkpointer keeps per thread: plain JSON-ready values only, so a
thread can be resumed by any process. The run context is what nodes need but a checkpoint must
not hold: the user, the memory, the gateway, the queue and the options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from memlane.agent.queue import WriteQueue
from memlane.llm.gateway import LLMGateway
from memlane.memory_graph.memory import Memory

__all__ = ["MAX_HISTORY", "AgentContext", "AgentOptions", "TurnState", "WriteStatus"]

MAX_HISTORY = 10_000
"""The most messages a thread's checkpoint keeps whatever the settings say; the reply node
keeps ``AgentOptions.history_messages`` (the prompts use the last few)."""

WriteStatus = Literal["pending", "skipped", "queued", "committed", "failed"]


def keep_recent(old: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None) -> list:
    """Reducer for ``history``: append, keep the last :data:`MAX_HISTORY` messages."""
    return [*(old or []), *(new or [])][-MAX_HISTORY:]


class TurnState(TypedDict, total=False):
    """One thread's state; each turn overwrites the per-turn fields.

    Attributes:
        message: the user's new message (or, when ingesting, the batch's messages joined).
        turns: the new message(s) as ``{"role", "content", "at"}`` dicts.
        at: ISO time of the turn (relative dates are resolved against it).
        session_id: the conversation the turn belongs to.
        history: earlier turns of this thread, oldest first (checkpointed).
        memory: the rendered memory context the reply was conditioned on.
        reply: the assistant's reply.
        extraction: the validated extraction output (``ExtractionOutput`` as a dict).
        short_ids: short id shown to the model -> real fact id.
        drafts: ``FactDraft`` dicts ready to commit.
        episodes: ``Episode`` dicts of the turn.
        kept: how many of them ``keep`` newly stored.
        job: the turn's ``ExtractionJob`` (as stored: pending, failed or done).
        report: the ``CommitReport`` of the write, as a dict.
        write_status: what happened to memory this turn.
        write_error: ``MemlaneError.to_dict()`` when the write failed.
        calls: ``CallRecord`` dicts of this turn's LLM calls.
    """

    message: str
    turns: list[dict[str, Any]]
    at: str
    session_id: str | None
    history: Annotated[list[dict[str, Any]], keep_recent]
    memory: str
    reply: str
    extraction: dict[str, Any] | None
    short_ids: dict[str, str]
    drafts: list[dict[str, Any]]
    episodes: list[dict[str, Any]]
    kept: int
    job: dict[str, Any] | None
    report: dict[str, Any] | None
    write_status: WriteStatus
    write_error: dict[str, str] | None
    calls: list[dict[str, Any]]


@dataclass(frozen=True)
class AgentOptions:
    """Knobs of the loop (from :class:`memlane.agent.settings.Settings`).

    Attributes:
        candidates: existing facts the extraction prompt sees (chosen by retrieval).
        recent_turns: earlier turns shown to the reply prompt.
        extract_recent_turns: earlier turns shown to the extraction prompt (context only).
        context_tokens: token budget of the memory context in the reply prompt.
        defer_writes: write memory in the background queue instead of before returning.
        settle_writes_s: with ``defer_writes``, how long a turn (or ``MemoryAgent.recall``)
            waits for the user's queued writes before it reads memory, so it sees what the
            earlier turns said; past it, it reads what is there (and logs that). 0: no wait.
        stream: stream the reply (tokens reach ``on_token`` / the ``custom`` stream).
        history_messages: messages a thread keeps in its checkpoint; older ones are dropped,
            so a long conversation's thread stays bounded.
    """

    candidates: int = 15
    recent_turns: int = 4
    extract_recent_turns: int = 2
    context_tokens: int = 1200
    defer_writes: bool = False
    settle_writes_s: float = 10.0
    stream: bool = True
    history_messages: int = 200


@dataclass(frozen=True)
class AgentContext:
    """The run context every node receives (``Runtime[AgentContext].context``)."""

    user_id: str
    memory: Memory
    gateway: LLMGateway
    options: AgentOptions
    queue: WriteQueue | None = None
    user_name: str | None = None
    extractor: LLMGateway | None = None

    @property
    def extraction_gateway(self) -> LLMGateway:
        """The extraction model's gateway (the chat model's when none is set)."""
        return self.extractor or self.gateway
