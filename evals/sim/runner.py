"""Run a simulated user through memlane and score it (``memlane eval sim``).

Two ways to write memory:

* **agent** (default): every user turn goes through the real :class:`memlane.agent.api.MemoryAgent`
  (recall, reply, extraction by the configured model, reconciliation, commit);
* **gold** (``gold=True``): the simulator's own drafts (what a perfect extractor would return)
  are committed with :meth:`Memory.commit`. Extraction is then out of the picture, so any probe
  failure or consistency violation is a storage, temporal-rule or retrieval bug.

Either way, after every session the user's current facts are checked for two current values
of one functional predicate, and at every checkpoint the probes of :mod:`memlane.evals.sim.probes`
are answered by :class:`memlane.evals.sim.answer.ProbeAnswerer` and through ``recall`` (for context
size, latency and whether the answer is in the context). Memory runs on a simulated clock:
"now" is the time of the turn being processed.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field
from tqdm import tqdm

from memlane.evals.failures import ErrorSummary
from memlane.evals.metrics import percentile
from memlane.evals.sim.answer import ProbeAnswerer
from memlane.evals.sim.generate import generate_timeline
from memlane.evals.sim.probes import PROBE_TYPES, Probe, checkpoints, is_correct, make_probes
from memlane.evals.sim.render import RenderedTurn, render_session
from memlane.evals.sim.timeline import Session, Timeline, Turn
from memlane.llm.config import ModelConfig
from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode, Fact, episode_id_for, normalise_name
from memlane.memory_graph.predicates import PredicateRegistry, default_registry
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.timeutil import to_iso

__all__ = ["ProbeResult", "SimClock", "SimConfig", "SimResult", "run_simulation"]

log = logging.getLogger(__name__)

_MAX_LISTED = 50


class SimConfig(BaseModel):
    """What to simulate and how to write and read memory."""

    sessions: int = Field(default=200, ge=1, le=10_000)
    seed: int = 0
    gold: bool = Field(default=False, description="commit the simulator's drafts, no extraction")
    store: str | None = Field(default=None, description="store URL (default: a temporary file)")
    embedder: str = "minilm"
    model: str = "memlane/offline"
    retrieval_preset: str = "balanced"
    checkpoint_every: int = Field(default=20, ge=1)
    recall: bool = Field(default=True, description="also recall each probe (context, latency)")
    token_budget: int | None = None
    llm_user: bool = Field(default=False, description="rewrite user turns with the model")
    judge: bool = Field(default=False, description="also answer probes through chat + LLM judge")
    llm: dict[str, ModelConfig] = Field(
        default_factory=dict,
        description="per task (chat, extraction, judge): the model and its endpoint; "
        "a missing task uses `model` with default call settings",
    )

    def model_for(self, task: str) -> ModelConfig:
        """The model a task uses (``llm[task]``, else ``llm["chat"]``, else ``model``)."""
        return self.llm.get(task) or self.llm.get("chat") or ModelConfig(model=self.model)


class SimClock:
    """A settable clock: memory's "now" is the simulated turn time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class ProbeResult(BaseModel):
    probe: Probe
    answer: str | list[str]
    correct: bool
    context_tokens: int | None = None
    in_context: bool | None = None
    recall_ms: float | None = None
    judged: bool | None = None


class SimResult(BaseModel):
    """Scores of one run; ``summary()`` is the JSON ``memlane eval sim --json`` prints.

    ``failures`` holds every failed probe (in the report's ``sim.json``, not in the summary).
    ``write_errors`` counts user turns that memory did not take (with the first few in full):
    when it is not zero the scores do not measure memory, and ``memlane eval sim`` says so.
    """

    config: SimConfig
    user_id: str
    writer: str
    sessions: int
    turns: int
    accuracy: dict[str, float | None]
    probes: dict[str, int]
    accuracy_by_checkpoint: list[dict[str, Any]]
    accuracy_by_predicate: dict[str, dict[str, list[int]]] = Field(
        default_factory=dict, description="type -> predicate -> [correct, asked]"
    )
    consistency_violations: int
    violations: list[dict[str, Any]]
    preference_conflicts: int
    context_tokens: dict[str, float]
    context_tokens_by_checkpoint: list[dict[str, Any]]
    answer_in_context: dict[str, float | None]
    llm_calls_per_turn: float
    llm_calls: dict[str, dict[str, float]]
    llm_tokens_per_turn: float
    latency_ms: dict[str, float]
    latency_by_checkpoint: list[dict[str, Any]]
    recall_latency_ms: dict[str, float]
    judge_accuracy: dict[str, float | None] | None = None
    simulator_llm_calls: dict[str, dict[str, float]] = Field(default_factory=dict)
    extraction: dict[str, Any] | None = None
    write_errors: ErrorSummary = Field(default_factory=ErrorSummary)
    failures: list[ProbeResult]
    elapsed_s: float

    def summary(self) -> dict[str, Any]:
        """Everything but the per-probe failure list (kept in the report files).

        ``write_errors`` comes right after ``turns``, before any score.
        """
        data = self.model_dump(mode="json", exclude={"failures"})
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key != "write_errors":
                out[key] = value
            if key == "turns":
                out["write_errors"] = data["write_errors"]
        return out


class Writer(Protocol):
    """How one user turn reaches memory."""

    name: str
    errors: ErrorSummary

    async def turn(self, session: Session, turn: Turn, text: RenderedTurn) -> None:
        """Write one turn; a failure that should not stop the run goes to ``errors``."""
        ...

    def llm_totals(self) -> dict[str, dict[str, float]]: ...


class GoldWriter:
    """Commits the simulator's drafts for each turn, with the turn as their episode."""

    name = "gold"

    def __init__(self, memory: Memory, user_id: str) -> None:
        self.memory = memory
        self.user_id = user_id
        # A failed commit raises: gold runs stop at the first error.
        self.errors = ErrorSummary()

    async def turn(self, session: Session, turn: Turn, text: RenderedTurn) -> None:
        episode = Episode(
            id=episode_id_for(session.id, "user", turn.at, text.user),
            user_id=self.user_id,
            session_id=session.id,
            role="user",
            content=text.user,
            occurred_at=turn.at,
            recorded_at=turn.at,
        )
        drafts = [d.model_copy(update={"episode_ids": [episode.id]}) for d in turn.drafts]
        await self.memory.commit(self.user_id, drafts, [episode])

    def llm_totals(self) -> dict[str, dict[str, float]]:
        return {}


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "mean": round(statistics.fmean(values), 2),
        "p50": round(percentile(values, 0.5), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
    }


def consistency_problems(
    facts: list[Fact], registry: PredicateRegistry
) -> tuple[list[dict[str, Any]], int]:
    """Functional predicates with two current values, and preferences held both ways.

    Returns:
        (one record per ``(subject, predicate)`` with more than one current value,
        the number of items both liked and not liked at once).
    """
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    polarity: dict[tuple[str, str], set[bool]] = defaultdict(set)
    for f in facts:
        if not f.is_current:
            continue
        if f.predicate in ("likes", "dislikes"):
            liked = (f.predicate == "likes") == (f.polarity == "positive")
            polarity[(f.subject_id, f.object_key)].add(liked)
        elif registry.is_functional(f.predicate) and f.polarity == "positive":
            values[(f.subject_id, f.predicate)].add(f.object_key)
    problems = [
        {"subject_id": s, "predicate": p, "values": sorted(v)}
        for (s, p), v in sorted(values.items())
        if len(v) > 1
    ]
    conflicts = sum(1 for v in polarity.values() if len(v) > 1)
    return problems, conflicts


class _Run:
    def __init__(self, config: SimConfig, timeline: Timeline, memory: Memory, writer: Writer):
        self.config = config
        self.timeline = timeline
        self.memory = memory
        self.writer = writer
        self.answerer = ProbeAnswerer(memory, timeline.user_id)
        self.turn_ms: list[float] = []
        self.turn_ms_at: list[tuple[int, float]] = []
        self.results: list[ProbeResult] = []
        self.violations: list[dict[str, Any]] = []
        self.violation_count = 0
        self.preference_conflicts = 0
        self.sim_llm: Any = None

    async def check_consistency(self, session: Session) -> None:
        facts = await self.memory.facts(self.timeline.user_id, current_only=True)
        problems, conflicts = consistency_problems(facts, self.memory.registry)
        self.preference_conflicts += conflicts
        self.violation_count += len(problems)
        for p in problems:
            if len(self.violations) < _MAX_LISTED:
                self.violations.append({"session": session.index + 1, **p})

    async def probe(self, probe: Probe) -> ProbeResult:
        answer = await self.answerer.answer(probe)
        result = ProbeResult(probe=probe, answer=answer, correct=is_correct(probe, answer))
        if self.config.recall:
            started = time.perf_counter()
            context = await self.memory.recall(
                self.timeline.user_id,
                probe.question,
                as_of=probe.as_of,
                token_budget=self.config.token_budget,
            )
            result.recall_ms = (time.perf_counter() - started) * 1000
            result.context_tokens = context.tokens
            text = normalise_name(context.text)
            wanted = probe.expected if isinstance(probe.expected, list) else [probe.expected]
            result.in_context = (
                None
                if probe.type == "abstain" or probe.read in ("polarity", "when")
                else all(normalise_name(w) in text for w in wanted)
            )
        if self.config.judge:
            from memlane.evals.sim.llm import judge_probe

            result.judged, _ = await judge_probe(
                self.sim_llm, self.memory, self.timeline.user_id, probe,
                user_name=None,
            )  # fmt: skip
        return result


async def run_simulation(
    config: SimConfig,
    *,
    progress: bool = True,
    writer_factory: Callable[[Memory, Timeline, SimClock], Any] | None = None,
    sim_llm: Any = None,
) -> SimResult:
    """Simulate ``config.sessions`` sessions of one user and score memory at checkpoints.

    Args:
        config: what to run.
        progress: show a progress bar on stderr.
        writer_factory: builds the turn writer (default: gold or the MemoryAgent); it may
            return an async context manager. For tests and alternative agents.
        sim_llm: the :class:`memlane.llm.gateway.LLMGateway` of the user simulator and judge
            (``llm_user`` / ``judge``); default: one for ``config.model``.

    Returns:
        The scores (:class:`SimResult`).
    """
    started = time.perf_counter()
    timeline = generate_timeline(config.seed, config.sessions)
    async with AsyncExitStack() as stack:
        if config.store:
            url = config.store
            # A store that may hold other data: a fresh user id, never a wipe.
            user_id = f"sim-{config.seed}-{secrets.token_hex(4)}"
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="memlane-sim-"))
            url = f"sqlite:///{Path(tmp) / 'sim.db'}"
            user_id = timeline.user_id
        timeline.user_id = user_id
        store = await stack.enter_async_context(open_store(url))
        clock = SimClock(timeline.sessions[0].started_at)
        memory = Memory(
            store,
            make_embedder(config.embedder),
            registry=default_registry(),
            retrieval=config.retrieval_preset,
            clock=clock,
        )
        if writer_factory is not None:
            writer = writer_factory(memory, timeline, clock)
        elif config.gold:
            writer = GoldWriter(memory, user_id)
        else:
            from memlane.evals.sim.agent import AgentWriter

            writer = AgentWriter(memory, timeline, config)
        if hasattr(writer, "__aenter__"):
            writer = await stack.enter_async_context(writer)
        run = _Run(config, timeline, memory, writer)
        if (config.llm_user or config.judge) and sim_llm is None:
            from memlane.llm.gateway import LLMGateway
            from memlane.llm.offline.provider import register as register_offline

            register_offline()
            sim_llm = LLMGateway(config.model_for("judge"))
        run.sim_llm = sim_llm
        await _drive(run, clock, progress)
        return _result(run, time.perf_counter() - started)


async def _drive(run: _Run, clock: SimClock, progress: bool) -> None:
    timeline, config = run.timeline, run.config
    marks = set(checkpoints(config.sessions, config.checkpoint_every))
    bar = tqdm(
        total=len(timeline.sessions),
        desc=f"sim seed={config.seed} ({run.writer.name})",
        unit="session",
        disable=not progress,
        leave=False,
    )
    with bar:
        for session in timeline.sessions:
            rendered = render_session(timeline, session)
            if config.llm_user:
                from memlane.evals.sim.llm import rewrite_turns

                rendered = await rewrite_turns(run.sim_llm, session, rendered)
            for turn, text in zip(session.turns, rendered, strict=True):
                clock.now = turn.at
                t0 = time.perf_counter()
                await run.writer.turn(session, turn, text)
                ms = (time.perf_counter() - t0) * 1000
                run.turn_ms.append(ms)
                run.turn_ms_at.append((session.index + 1, ms))
            await run.check_consistency(session)
            elapsed = session.index + 1
            if elapsed in marks:
                clock.now = timeline.time_after(elapsed)
                await run.answerer.refresh()
                for probe in make_probes(timeline, elapsed):
                    run.results.append(await run.probe(probe))
                bar.set_postfix(_postfix(run, elapsed))
            bar.update(1)


def _postfix(run: _Run, checkpoint: int) -> dict[str, str]:
    mine = [r for r in run.results if r.probe.checkpoint == checkpoint]
    ok = sum(r.correct for r in mine)
    return {"probes": f"{ok}/{len(mine)}", "violations": str(run.violation_count)}


def _accuracy(results: list[ProbeResult]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for t in PROBE_TYPES:
        mine = [r for r in results if r.probe.type == t]
        out[t] = round(sum(r.correct for r in mine) / len(mine), 4) if mine else None
    return out


def _by_predicate(results: list[ProbeResult]) -> dict[str, dict[str, list[int]]]:
    """``[correct, asked]`` per probe type and predicate (where a type's score comes from)."""
    groups: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in results:
        cell = groups[r.probe.type][r.probe.predicate]
        cell[0] += r.correct
        cell[1] += 1
    return {t: dict(sorted(by_p.items())) for t, by_p in sorted(groups.items())}


def _result(run: _Run, elapsed: float) -> SimResult:
    results, config = run.results, run.config
    marks = checkpoints(config.sessions, config.checkpoint_every)
    by_checkpoint, tokens_by_checkpoint, latency_by_checkpoint = [], [], []
    prev = 0
    for mark in marks:
        mine = [r for r in results if r.probe.checkpoint == mark]
        by_checkpoint.append({"sessions": mark, **_accuracy(mine)})
        tokens = [float(r.context_tokens) for r in mine if r.context_tokens is not None]
        tokens_by_checkpoint.append({"sessions": mark, **_stats(tokens)})
        window = [ms for s, ms in run.turn_ms_at if prev < s <= mark]
        latency_by_checkpoint.append({"sessions": mark, **_stats(window)})
        prev = mark
    in_context: dict[str, float | None] = {}
    for t in PROBE_TYPES:
        flags = [r.in_context for r in results if r.probe.type == t and r.in_context is not None]
        in_context[t] = round(sum(flags) / len(flags), 4) if flags else None
    llm = run.writer.llm_totals()
    turns = len(run.turn_ms)
    calls = sum(v.get("calls", 0) for v in llm.values())
    llm_tokens = sum(
        v.get("prompt_tokens", 0) + v.get("completion_tokens", 0) for v in llm.values()
    )
    judged = [r for r in results if r.judged is not None]
    judge_accuracy: dict[str, float | None] | None = None
    if judged:
        judge_accuracy = {
            t: (
                round(sum(bool(r.judged) for r in mine) / len(mine), 4)
                if (mine := [r for r in judged if r.probe.type == t])
                else None
            )
            for t in PROBE_TYPES
        }
    errors: ErrorSummary = getattr(run.writer, "errors", None) or ErrorSummary()
    if errors.count:
        log.warning(
            "%d of %d simulated user turns were not written; first: %s",
            errors.count,
            turns,
            ErrorSummary.describe(errors.first[0]),
        )
    return SimResult(
        config=config,
        user_id=run.timeline.user_id,
        writer=run.writer.name,
        sessions=len(run.timeline.sessions),
        turns=turns,
        accuracy=_accuracy(results),
        probes=dict(Counter(r.probe.type for r in results)),
        accuracy_by_checkpoint=by_checkpoint,
        consistency_violations=run.violation_count,
        violations=run.violations,
        preference_conflicts=run.preference_conflicts,
        context_tokens=_stats(
            [float(r.context_tokens or 0) for r in results if r.context_tokens is not None]
        ),
        context_tokens_by_checkpoint=tokens_by_checkpoint,
        answer_in_context=in_context,
        llm_calls_per_turn=round(calls / turns, 3) if turns else 0.0,
        llm_calls=llm,
        llm_tokens_per_turn=round(llm_tokens / turns, 1) if turns else 0.0,
        latency_ms=_stats(run.turn_ms),
        latency_by_checkpoint=latency_by_checkpoint,
        recall_latency_ms=_stats([r.recall_ms for r in results if r.recall_ms is not None]),
        judge_accuracy=judge_accuracy,
        simulator_llm_calls=run.sim_llm.accounting.by_task() if run.sim_llm else {},
        extraction=tally.summary() if (tally := getattr(run.writer, "extraction", None)) else None,
        write_errors=errors,
        accuracy_by_predicate=_by_predicate(results),
        failures=[r for r in results if not r.correct],
        elapsed_s=round(elapsed, 2),
    )


def describe_failure(result: ProbeResult) -> str:
    """One line per failed probe, for logs and the markdown report."""
    p = result.probe
    as_of = f" as of {to_iso(p.as_of)}" if p.as_of else ""
    return (
        f"[{p.type}] after {p.checkpoint} sessions{as_of}: {p.question} "
        f"expected {p.expected!r}, got {result.answer!r}"
    )


__all__ += ["GoldWriter", "Writer", "consistency_problems", "describe_failure"]
