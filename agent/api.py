"""``MemoryAgent``: a chat agent with a temporal memory, as a Python API.

Example::

    agent = MemoryAgent.from_settings(Settings())     # MEMLANE_* variables
    result = await agent.achat("u1", "I moved to Berlin last month")
    print(result.reply)
    context = await agent.recall("u1", "where do I live?")
    await agent.aclose()

or, synchronously (the agent keeps its own event loop)::

    with MemoryAgent.from_settings(Settings()) as agent:
        print(agent.chat("u1", "hi").reply)

Each :meth:`achat` runs the LangGraph loop ``recall -> respond -> extract -> drafts ->
commit`` on the thread of ``user_id`` and ``session_id``, checkpointed with the memory
(:mod:`memlane.agent.threads`: in the store with the memory, deleted by ``forget``). Memory
writing costs one extraction call per turn and commits one atomic write set. With
``defer_writes`` it runs in a per-user background queue; failures are kept and shown by
:meth:`write_errors`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field, ValidationError, computed_field, field_validator

from memlane.agent.bootstrap import build_memory
from memlane.agent.graph import (
    build_chat_graph,
    build_write_graph,
    keep_node,
    settle_writes,
    turn_episodes,
)
from memlane.agent.queue import WriteFailure, WriteQueue
from memlane.agent.settings import Settings
from memlane.agent.state import AgentContext, AgentOptions, TurnState
from memlane.agent.threads import forget_threads, open_threads, thread_id
from memlane.llm.gateway import Accounting, CallRecord, LLMGateway
from memlane.llm.offline.provider import is_offline
from memlane.llm.offline.provider import register as register_offline
from memlane.memory_graph.embedding.port import Embedder
from memlane.memory_graph.errors import InputError, MemlaneError
from memlane.memory_graph.ids import check_user_id
from memlane.memory_graph.jobs import ExtractionJob, job_id_for
from memlane.memory_graph.limits import MAX_CONTENT_CHARS
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Id, Role, check_content
from memlane.memory_graph.reconcile import CommitReport
from memlane.memory_graph.retrieval.retriever import MemoryContext
from memlane.memory_graph.stores import GraphStore
from memlane.memory_graph.timeutil import parse_time, to_iso, utcnow

__all__ = ["ChatResult", "IngestMessage", "IngestResult", "MemoryAgent", "RetryReport"]

log = logging.getLogger(__name__)

TimeArg = datetime | str | None


class ChatResult(BaseModel):
    """One turn's outcome: the reply and what happened to memory.

    ``write_status`` is ``committed`` (``report`` says what changed), ``queued`` (deferred),
    or ``failed`` (``write_error`` says why; memory is unchanged).
    """

    user_id: str
    session_id: str | None
    reply: str
    memory: str = Field(description="the memory context the reply was conditioned on")
    write_status: str
    write_error: dict[str, str] | None = None
    report: CommitReport | None = None
    calls: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.write_status in ("committed", "queued", "skipped")


class IngestMessage(BaseModel):
    """A message from the caller, checked by the rules of the episode it becomes.

    Every message :meth:`MemoryAgent.achat` and :meth:`MemoryAgent.ingest` accept passes
    through this model first, so bad input is an :class:`InputError` before anything runs
    or is written, never a validation error from deep inside the loop.
    """

    role: Role = "user"
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    at: datetime | None = None
    session_id: Id | None = None
    id: Id | None = None
    speaker: str | None = Field(default=None, max_length=200)

    @field_validator("content")
    @classmethod
    def _content(cls, value: str) -> str:
        return check_content(value)

    @classmethod
    def parse(cls, raw: IngestMessage | dict[str, Any] | str, *, where: str) -> IngestMessage:
        """A checked message; ``where`` names it in errors (``messages[3]``).

        Raises:
            InputError: naming the field and the problem (``messages[3].content``).
        """
        if isinstance(raw, IngestMessage):
            return raw
        try:
            return cls(content=raw) if isinstance(raw, str) else cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            # A bare string is the content itself: name it, not its field.
            field = "" if isinstance(raw, str) else ".".join(str(p) for p in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise InputError(message, where=f"{where}.{field}" if field else where) from exc


class RetryReport(BaseModel):
    """What ``retry_failed`` did: jobs re-run, how many now done, facts they added."""

    jobs: int = 0
    done: int = 0
    failed: int = 0
    facts_added: int = 0
    errors: list[dict[str, str]] = Field(default_factory=list)


class IngestResult(BaseModel):
    """What ingesting a conversation through extraction did."""

    user_id: str
    batches: int = 0
    skipped: int = Field(default=0, description="batches already extracted before: no call")
    messages: int = 0
    llm_calls: int = 0
    reports: list[CommitReport] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def facts_added(self) -> int:
        """Facts added over all batches."""
        return sum(r.facts_added for r in self.reports)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def facts_closed(self) -> int:
        """Facts closed over all batches."""
        return sum(r.facts_closed for r in self.reports)


@dataclass
class _Resources:
    store: GraphStore
    memory: Memory
    saver: BaseCheckpointSaver[Any]
    threads_store: GraphStore | None  # a file of the threads' own (closed with the agent)
    chat_graph: Any
    write_graph: Any
    queue: WriteQueue = field(default_factory=WriteQueue)
    resumed: int = 0


class MemoryAgent:
    """A memory-backed chat agent over any LiteLLM model.

    Args:
        memory: the user-scoped memory (its store opened by the caller), or None to open one
            from ``settings`` on first use.
        gateway: the LLM gateway of replies (model, retries, accounting); default: from
            ``settings.llm("chat")``.
        extraction_gateway: the gateway of extraction; default: ``gateway`` when one is
            given, else from ``settings.llm("extraction")`` (sharing the chat accounting).
        settings: where the store, model and embedder come from when not given, and options.
        options: loop options (defaults from ``settings``).
        checkpointer: a LangGraph checkpointer; default: in the store, with the memory (the
            SQLite store's file, a graph server's graph; see :mod:`memlane.agent.threads`).
        embedder: overrides ``settings.embedder`` when the agent opens its own memory.
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        memory: Memory | None = None,
        gateway: LLMGateway | None = None,
        options: AgentOptions | None = None,
        checkpointer: BaseCheckpointSaver[Any] | None = None,
        embedder: Embedder | None = None,
        extraction_gateway: LLMGateway | None = None,
    ) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.gateway = gateway or LLMGateway(s.llm("chat"))
        if extraction_gateway is None and gateway is None:
            extraction = s.llm("extraction")
            if extraction != self.gateway.config:
                extraction_gateway = LLMGateway(extraction, accounting=self.gateway.accounting)
        self.extraction_gateway = extraction_gateway or self.gateway
        # LiteLLM's provider map is process-wide: touched only when the offline model is used.
        if any(is_offline(g.model) for g in (self.gateway, self.extraction_gateway)):
            register_offline()
        self.options = options or AgentOptions(
            candidates=s.extract_candidates,
            context_tokens=s.context_tokens,
            defer_writes=s.defer_writes,
            settle_writes_s=s.settle_writes_s,
            history_messages=s.thread_history,
        )
        self._memory = memory
        self._checkpointer = checkpointer
        self._embedder = embedder
        self._res: _Resources | None = None
        self._open_lock = asyncio.Lock()
        self._runner: asyncio.Runner | None = None
        self._closed_failures: list[WriteFailure] = []

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> MemoryAgent:
        """An agent configured from settings (store, model, embedder, options)."""
        return cls(settings=settings, **kwargs)

    # -- lifecycle ---------------------------------------------------------------------------
    async def _open(self) -> _Resources:
        async with self._open_lock:
            if self._res is not None:
                return self._res
            s = self.settings
            if self._memory is not None:
                memory = self._memory
                store = memory.store
            else:
                memory = build_memory(s, embedder=self._embedder)
                store = memory.store
                await store.open()
            threads_store = None
            saver = self._checkpointer
            if saver is None:
                saver, threads_store = await open_threads(
                    store, s.checkpoint_db, keep_checkpoints=s.thread_checkpoints
                )
            defer = self._defer_node if self.options.defer_writes else None
            self._res = _Resources(
                store=store,
                memory=memory,
                saver=saver,
                threads_store=threads_store,
                chat_graph=build_chat_graph(defer=defer).compile(checkpointer=saver),
                write_graph=build_write_graph().compile(),
            )
            self._res.resumed = await self._resume_pending(self._res)
            return self._res

    async def start(self) -> int:
        """Open the store now and resume the extraction jobs a previous process acknowledged
        and did not finish (a server calls this at start-up); how many were resumed."""
        res = await self._open()
        return res.resumed

    async def aclose(self) -> None:
        """Drain background writes, then close the checkpointer and (if ours) the store."""
        res, self._res = self._res, None
        if res is None:
            return
        await res.queue.close()
        self._closed_failures.extend(res.queue.failures())
        if res.threads_store is not None:
            await res.threads_store.close()
        if self._memory is None:
            await res.store.close()

    async def __aenter__(self) -> MemoryAgent:
        await self._open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- sync wrappers -----------------------------------------------------------------------
    def _run(self, coro: Any) -> Any:
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(coro)

    def chat(self, user_id: str, message: str, **kwargs: Any) -> ChatResult:
        """Synchronous :meth:`achat` (on the agent's own event loop; not inside a running loop)."""
        result: ChatResult = self._run(self.achat(user_id, message, **kwargs))
        return result

    def close(self) -> None:
        """Synchronous :meth:`aclose`."""
        if self._runner is None:
            return
        self._runner.run(self.aclose())
        self._runner.close()
        self._runner = None

    def __enter__(self) -> MemoryAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the loop ----------------------------------------------------------------------------
    def _context(self, res: _Resources, user_id: str, user_name: str | None) -> AgentContext:
        return AgentContext(
            user_id=user_id,
            memory=res.memory,
            gateway=self.gateway,
            options=self.options,
            queue=res.queue,
            user_name=user_name,
            extractor=self.extraction_gateway,
        )

    async def _defer_node(self, state: TurnState, runtime: Runtime[AgentContext]) -> dict:
        ctx = runtime.context
        res = await self._open()
        # Durable before acknowledged: the messages and a pending job are stored (one write)
        # before the turn says "queued"; after a crash the job is resumed on the next start.
        kept = await keep_node(state, runtime)
        if kept.get("write_status") == "failed":
            return kept
        snapshot: TurnState = {**state, **kept, "write_status": "pending"}  # type: ignore[typeddict-item]
        self._submit(res, ctx, snapshot)
        return {"write_status": "queued", "job": kept["job"]}

    def _submit(self, res: _Resources, ctx: AgentContext, snapshot: TurnState) -> None:
        async def job() -> dict[str, Any]:
            out = await res.write_graph.ainvoke(snapshot, context=ctx)
            if out.get("write_status") == "failed":
                raise _error_from(out.get("write_error") or {}, where="background write")
            return dict(out)

        res.queue.submit(ctx.user_id, job, label=f"turn {snapshot.get('at')}")

    async def _job_state(self, res: _Resources, job: ExtractionJob) -> TurnState:
        """The write-graph state that re-runs a stored job (its episodes, read back)."""
        found = {ep.id: ep for ep in await res.memory.episodes(job.user_id, job.episode_ids)}
        turns = [
            {
                "role": ep.role,
                "content": ep.content,
                "at": to_iso(ep.occurred_at),
                "id": ep.id,
                "speaker": ep.speaker,
            }
            for ep in (found.get(i) for i in job.episode_ids)
            if ep is not None
        ]
        return {
            "message": "\n".join(str(t["content"]) for t in turns if t["role"] == "user"),
            "turns": turns,
            "at": to_iso(job.at) or "",
            "session_id": job.session_id,
            "history": [],
            "job": job.model_dump(mode="json"),
            "write_status": "pending",
            "write_error": None,
            "calls": [],
        }

    async def _resume_pending(self, res: _Resources) -> int:
        """Queue the jobs a previous process acknowledged and did not finish, in order."""
        pending = await res.memory.jobs(None, ("pending",))
        for job in pending:
            state = await self._job_state(res, job)
            if state["turns"]:
                self._submit(res, self._context(res, job.user_id, None), state)
        if pending:
            log.warning("resumed %d pending extraction jobs of a previous run", len(pending))
        return len(pending)

    async def retry_failed(self, user_id: str | None = None) -> RetryReport:
        """Re-run extraction for turns whose write failed (their messages are stored), oldest
        first. Idempotent: a job that is done is never re-run; each turn's facts are still
        all-or-nothing.

        Args:
            user_id: one user's failed turns, or every user's.
        """
        if user_id is not None:
            check_user_id(user_id)
        res = await self._open()
        report = RetryReport()
        for job in await res.memory.jobs(user_id, ("failed",)):
            state = await self._job_state(res, job)
            out = await res.write_graph.ainvoke(
                state, context=self._context(res, job.user_id, None)
            )
            report.jobs += 1
            if out.get("write_status") == "committed":
                report.done += 1
                report.facts_added += (out.get("report") or {}).get("facts_added", 0)
            else:
                report.failed += 1
                report.errors.append({"job": job.id, **(out.get("write_error") or {})})
        return report

    async def achat(
        self,
        user_id: str,
        message: str,
        *,
        session_id: str | None = None,
        at: TimeArg = None,
        user_name: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> ChatResult:
        """One conversation turn: recall, reply, and write memory (inline or queued).

        Args:
            user_id: whose memory and thread.
            message: the user's message.
            session_id: the conversation (thread ``user_id/session_id``).
            at: when the message was said (default now); relative dates resolve against it.
            user_name: the user's name, if known, for the prompts.
            on_token: called with each piece of the reply as it streams.

        Raises:
            InputError: invalid user id, empty or oversized message, bad time.
            LLMError: the reply could not be produced (memory is unchanged).
        """
        check_user_id(user_id)
        thread_id(user_id, session_id)  # checks the session id before anything runs
        if not isinstance(message, str):
            raise InputError("the message must be text", where="message")
        IngestMessage.parse(message, where="message")
        when = to_iso(parse_time(at, field="at") if at else utcnow())
        res = await self._open()
        turn: TurnState = {
            "message": message,
            "turns": [{"role": "user", "content": message, "at": when}],
            "at": when or "",
            "session_id": session_id,
            "memory": "",
            "reply": "",
            "extraction": None,
            "short_ids": {},
            "drafts": [],
            "episodes": [],
            "kept": 0,
            "job": None,  # each turn owes its own job (the thread keeps the last one)
            "report": None,
            "write_status": "pending",
            "write_error": None,
            "calls": [],
        }
        config = {"configurable": {"thread_id": thread_id(user_id, session_id)}}
        ctx = self._context(res, user_id, user_name or await self._known_name(res, user_id))
        final: dict[str, Any] = {}
        async for mode, chunk in res.chat_graph.astream(
            turn, config, context=ctx, stream_mode=["custom", "values"]
        ):
            if mode == "custom" and on_token is not None and "token" in chunk:
                on_token(chunk["token"])
            elif mode == "values":
                final = chunk
        return self._result(user_id, session_id, final)

    @staticmethod
    async def _known_name(res: _Resources, user_id: str) -> str | None:
        # The user's own name, once memory holds it, makes prompts and statements personal.
        named = await res.memory.facts(user_id, subject="user", predicate="name", current_only=True)
        return named[-1].value if named else None

    @staticmethod
    def _result(user_id: str, session_id: str | None, state: dict[str, Any]) -> ChatResult:
        status = state.get("write_status", "pending")
        if status == "pending":  # every write step ran without reporting: a bug, not success
            status = "failed"
            state = {**state, "write_error": {"code": "internal", "message": "write incomplete"}}
        report = state.get("report")
        return ChatResult(
            user_id=user_id,
            session_id=session_id,
            reply=state.get("reply", ""),
            memory=state.get("memory", ""),
            write_status=status,
            write_error=state.get("write_error"),
            report=CommitReport.model_validate(report) if report else None,
            calls=state.get("calls", []),
        )

    # -- ingestion ---------------------------------------------------------------------------
    async def ingest(
        self,
        user_id: str,
        messages: Sequence[IngestMessage | dict[str, Any] | str],
        *,
        batch_turns: int = 1,
        user_name: str | None = None,
    ) -> IngestResult:
        """Run messages through extraction and commit them, in order.

        Messages are grouped into batches of ``batch_turns`` user messages (with the
        assistant messages between them); each batch is ONE extraction call and ONE atomic
        commit. Stops at the first failing batch: earlier batches stay committed, the failing
        one writes nothing.

        Raises:
            InputError: invalid user id or message (nothing is written).
            LLMError / ExtractionError: a batch failed; ``where`` names its first message.
        """
        check_user_id(user_id)
        if batch_turns < 1:
            raise InputError("batch_turns must be at least 1", where="batch_turns")
        items = [IngestMessage.parse(m, where=f"messages[{i}]") for i, m in enumerate(messages)]
        res = await self._open()
        ctx = self._context(res, user_id, user_name)
        result = IngestResult(user_id=user_id, messages=len(items))
        start = 0
        for batch in _batches(items, batch_turns):
            state = self._batch_state(batch)
            if await self._already_extracted(res, user_id, state):
                result.skipped += 1  # known messages cost no model call
                start += len(batch)
                continue
            before = len(self.calls)
            out = await res.write_graph.ainvoke(state, context=ctx)
            result.llm_calls += len(self.calls) - before
            if out.get("write_status") != "committed":
                err = out.get("write_error") or {"message": "memory write failed"}
                raise _error_from(err, where=f"messages[{start}]")
            result.reports.append(CommitReport.model_validate(out["report"]))
            result.batches += 1
            start += len(batch)
        return result

    @staticmethod
    async def _already_extracted(res: _Resources, user_id: str, state: TurnState) -> bool:
        job = job_id_for([ep.id for ep in turn_episodes(state, user_id)])
        return bool(await res.memory.jobs(user_id, ("done",), ids=[job]))

    @staticmethod
    def _batch_state(batch: list[IngestMessage]) -> TurnState:
        now = utcnow()
        turns = [
            {
                "role": m.role,
                "content": m.content,
                "at": to_iso(m.at or now),
                "id": m.id,
                "speaker": m.speaker,
            }
            for m in batch
        ]
        return {
            "message": "\n".join(m.content for m in batch if m.role == "user"),
            "turns": turns,
            "at": turns[-1]["at"] or "",
            "session_id": batch[0].session_id,
            "history": [],
            "write_status": "pending",
            "write_error": None,
            "calls": [],
        }

    # -- reads and status --------------------------------------------------------------------
    async def recall(self, user_id: str, query: str, **kwargs: Any) -> MemoryContext:
        """The memory context for ``query`` (see :meth:`Memory.recall`), after the user's
        queued writes (bounded by ``options.settle_writes_s``)."""
        await self.settle(user_id)
        return await (await self._open()).memory.recall(user_id, query, **kwargs)

    async def settle(self, user_id: str) -> None:
        """With deferred writes, wait (up to ``options.settle_writes_s``) for the user's
        queued writes, so what follows reads what the earlier turns said."""
        if self._res is not None:
            await settle_writes(self._context(self._res, user_id, None))

    async def forget_threads(self, user_id: str) -> int:
        """Delete the user's chat threads from this agent's checkpointer (the store's
        ``forget_user`` already deletes those the store keeps itself: the default); returns
        how many went."""
        check_user_id(user_id)
        res = await self._open()
        return await forget_threads(res.saver, user_id, store=res.store)

    async def memory(self) -> Memory:
        """The agent's :class:`Memory` (opened on first use)."""
        return (await self._open()).memory

    async def drain(self) -> None:
        """Wait for queued background writes."""
        if self._res is not None:
            await self._res.queue.drain()

    def write_errors(self, user_id: str | None = None) -> list[WriteFailure]:
        """Background writes that failed (inline failures are in each ``ChatResult``)."""
        live = self._res.queue.failures() if self._res is not None else []
        return [
            f for f in (*self._closed_failures, *live) if user_id is None or f.user_id == user_id
        ]

    def status(self) -> dict[str, Any]:
        """Model, queue state and LLM accounting totals."""
        return {
            "model": self.gateway.model,
            "models": {
                "chat": self.gateway.config.to_public(),
                "extraction": self.extraction_gateway.config.to_public(),
            },
            "defer_writes": self.options.defer_writes,
            "queue": self._res.queue.status() if self._res is not None else None,
            "llm": Accounting(self.calls).totals(),
        }

    @property
    def calls(self) -> list[CallRecord]:
        """Every LLM call this agent made (of both gateways, once each)."""
        books = {id(g.accounting): g.accounting for g in (self.gateway, self.extraction_gateway)}
        return [r for book in books.values() for r in book.records]


def _batches(items: list[IngestMessage], turns: int) -> list[list[IngestMessage]]:
    out: list[list[IngestMessage]] = []
    current: list[IngestMessage] = []
    users = 0
    for m in items:
        if m.role == "user" and users == turns:
            out.append(current)
            current, users = [], 0
        current.append(m)
        users += m.role == "user"
    if current:
        out.append(current)
    return out


def _error_from(err: dict[str, str], *, where: str) -> MemlaneError:
    from memlane.memory_graph import errors

    classes = {
        cls.code: cls
        for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, MemlaneError)
    }
    cls = classes.get(err.get("code", ""), MemlaneError)
    inner = err.get("where")
    return cls(
        err.get("message", "memory write failed"), where=f"{where} ({inner})" if inner else where
    )
