"""``memlane eval sim`` and ``memlane eval locomo-qa``: simulated users and answer quality."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from memlane.app.cli._common import JsonOption, load_settings, run
from memlane.app.cli.eval_cmds import eval_app, report, run_on_store
from memlane.memory_graph.errors import InputError

if TYPE_CHECKING:
    from memlane.memory_graph.stores.base import GraphStore

__all__ = ["register"]


def _seeds(seed: int, seeds: str | None) -> list[int]:
    if not seeds:
        return [seed]
    try:
        out = [int(part) for part in seeds.split(",") if part.strip()]
    except ValueError as exc:
        raise InputError(f"--seeds takes comma-separated integers, got {seeds!r}") from exc
    if not out:
        raise InputError("--seeds is empty", where="seeds")
    return out


def sim(
    sessions: int = typer.Option(200, "--sessions", min=1, help="sessions per simulated user"),
    seed: int = typer.Option(0, "--seed", help="random seed of the simulated user"),
    seeds: str | None = typer.Option(
        None, "--seeds", help="several seeds, comma-separated (overrides --seed); pooled scores"
    ),
    gold: bool = typer.Option(
        False, "--gold", help="commit the simulator's true facts instead of extracting them"
    ),
    as_json: bool = JsonOption,
    out: Path | None = typer.Option(
        None, "--out", help="write sim.json, sim.md and PNG plots into this directory"
    ),
    store: str | None = typer.Option(
        None,
        "--store",
        help="store URL (default: a temporary SQLite file; with a URL the run uses a fresh "
        "user id and leaves the data there)",
    ),
    model: str | None = typer.Option(None, "--model", help="LiteLLM model (default MEMLANE_MODEL)"),
    embedder: str | None = typer.Option(
        None, "--embedder", help="minilm (default), hash, or a sentence-transformers path"
    ),
    every: int = typer.Option(20, "--every", min=1, help="probe checkpoint every N sessions"),
    no_recall: bool = typer.Option(
        False, "--no-recall", help="skip recall per probe (no context-token numbers)"
    ),
    llm_user: bool = typer.Option(
        False, "--llm-user", help="a real model rewrites each user message in its own words"
    ),
    judge: bool = typer.Option(
        False, "--judge", help="also ask each probe through chat and score it with an LLM judge"
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="progress bar on stderr"),
    allow_write_errors: bool = typer.Option(
        False,
        "--allow-write-errors",
        help="exit 0 even when user turns were not written (default: exit 1, the scores of "
        "such a run do not measure memory)",
    ),
) -> None:
    """Simulated long-horizon evaluation: a user whose life changes over many sessions.

    Each session goes through the MemoryAgent (extraction by the model, reconciliation,
    store), or with --gold the simulator's true facts are committed directly (separating
    extraction errors from storage/temporal/retrieval errors). At every checkpoint probes
    with exact answers are read from memory: current value, value as of a date, history,
    when it changed, preference, sets, multi-hop and abstention. Two current values of a
    functional predicate are counted as consistency violations after every session.

    A turn memory did not take is a write error: counted under ``write_errors`` (top level
    of --json and of the report), warned about on stderr, and the command exits 1 unless
    --allow-write-errors is given.
    """
    from memlane.evals.report import aggregate, write_report
    from memlane.evals.sim.runner import SimConfig, SimResult, run_simulation

    settings = load_settings(store)
    models = settings.model_copy(update={"model": model}) if model else settings
    configs = [
        SimConfig(
            sessions=sessions,
            seed=s,
            gold=gold,
            store=store,
            embedder=embedder or settings.embedder,
            model=model or settings.model,
            retrieval_preset=settings.retrieval_preset,
            checkpoint_every=every,
            recall=not no_recall,
            llm_user=llm_user,
            judge=judge,
            llm={task: models.llm(task) for task in ("chat", "extraction", "judge")},
        )
        for s in _seeds(seed, seeds)
    ]
    if (llm_user or judge) and (model or settings.model) == "memlane/offline":
        raise typer.BadParameter(
            "--llm-user and --judge need a real model (--model or MEMLANE_MODEL)",
            param_hint="--model",
        )

    async def go() -> list[SimResult]:
        return [await run_simulation(c, progress=progress) for c in configs]

    # The runner opens its store itself (a fresh user id in a given store, else a temporary
    # file); the printing is shared with the other evaluations.
    results = run(go)
    summary = aggregate(results)
    if out is not None:
        paths = write_report(results, out)
        if not as_json:
            typer.echo(f"report: {paths['markdown']} (+ sim.json and PNG plots)")
    report(summary, as_json, _print)
    _refuse_failures(
        summary["write_errors"],
        f"of {summary['turns']} user turns were not written, so the scores do not measure memory",
        "--allow-write-errors",
        allowed=allow_write_errors,
    )


def _refuse_failures(errors: dict[str, Any], what: str, switch: str, *, allowed: bool) -> None:
    """Failures are not results: warn on stderr, and exit 1 unless ``switch`` allowed them.

    Args:
        errors: an :class:`memlane.evals.failures.ErrorSummary` as a dict (``count``, ``first``).
        what: completes "N ..." in the message, e.g. "of 993 user turns were not written".
        switch: the option that accepts the run anyway.
        allowed: whether ``switch`` was given.
    """
    from memlane.evals.failures import ErrorSummary

    if not errors["count"]:
        return
    first = ErrorSummary.describe(errors["first"][0]) if errors["first"] else "?"
    message = f"{errors['count']} {what}. First: {first}"
    if allowed:
        typer.echo(f"warning: {message}", err=True)
        return
    typer.echo(f"error: {message} (use {switch} to accept the run)", err=True)
    raise typer.Exit(1)


def _print(summary: dict[str, Any]) -> None:
    acc = summary["accuracy"]
    typer.echo(
        f"simulated user: writer={summary['writer']}, {summary['sessions']} sessions, "
        f"{summary['turns']} turns, {summary['write_errors']['count']} not written"
    )
    typer.echo(
        "accuracy: " + ", ".join(f"{k} {'-' if v is None else f'{v:.3f}'}" for k, v in acc.items())
    )
    lat, tok = summary["latency_ms"], summary["context_tokens"]
    typer.echo(
        f"consistency violations {summary['consistency_violations']}; "
        f"context tokens mean {tok['mean']}; LLM calls/turn {summary['llm_calls_per_turn']}; "
        f"turn latency ms p50 {lat['p50']} p95 {lat['p95']}"
    )


def locomo_qa(
    data: Path = typer.Option(..., "--data", help="a LoCoMo-format JSON file (locomo10.json)"),
    model: str | None = typer.Option(
        None, "--model", help="the answering model, any LiteLLM name (default MEMLANE_MODEL)"
    ),
    judge_model: str | None = typer.Option(
        None, "--judge-model", help="the judging model (default: the answering model)"
    ),
    no_judge: bool = typer.Option(False, "--no-judge", help="token F1 only, no LLM judge"),
    mode: str = typer.Option("both", "--mode", help="ingest turns, or both turns+observations"),
    limit_conversations: int | None = typer.Option(
        None, "--limit-conversations", min=1, help="only the first N conversations"
    ),
    limit_questions: int | None = typer.Option(
        None, "--limit-questions", min=1, help="at most N questions per conversation"
    ),
    as_json: bool = JsonOption,
    store: str | None = typer.Option(
        None, "--store", help="store URL (default: a temporary SQLite file, deleted afterwards)"
    ),
    embedder: str | None = typer.Option(
        None, "--embedder", help="minilm (default), hash, or a sentence-transformers path"
    ),
    preset: str = typer.Option("balanced", "--preset", help="retrieval preset: fast|balanced|deep"),
    token_budget: int | None = typer.Option(
        None, "--token-budget", min=50, help="context token budget per question"
    ),
    allow_judge_errors: bool = typer.Option(
        False,
        "--allow-judge-errors",
        help="exit 0 even when the judge could not grade some answers (they count as wrong)",
    ),
) -> None:
    """LoCoMo question answering: the model answers each category 1-4 question from the
    memory context (memlane's reply prompt), and an LLM judge scores it against the gold
    answer; token F1 is reported too. Scores per category. Progress goes to stderr.

    Works with any LiteLLM model (set its API key as LiteLLM expects, e.g. OPENAI_API_KEY).
    The offline model can answer but not judge: use --no-judge or a real --judge-model.
    Answers the judge could not grade count as wrong and are listed under ``judge_errors``;
    the command then exits 1 unless --allow-judge-errors is given.
    """
    from memlane.agent.bootstrap import make_embedder_for
    from memlane.agent.settings import LLMTask
    from memlane.evals.locomo import load_locomo
    from memlane.evals.locomo_qa import gold_answers, run_locomo_qa
    from memlane.llm.gateway import LLMGateway
    from memlane.llm.offline.provider import is_offline
    from memlane.llm.offline.provider import register as register_offline

    settings = load_settings(store)
    if mode not in ("turns", "both"):
        raise typer.BadParameter("use turns or both", param_hint="--mode")
    answer_model = model or settings.model
    models = settings.model_copy(update={"model": answer_model})
    if judge_model:
        models = models.model_copy(
            update={"judge": models.judge.model_copy(update={"model": judge_model})}
        )
    judging = None if no_judge else models.llm("judge").model
    if judging is not None and is_offline(judging):
        raise typer.BadParameter(
            "the offline model cannot judge answers: give a real --judge-model or --no-judge",
            param_hint="--judge-model",
        )
    if is_offline(answer_model):
        register_offline()

    def gateway(task: LLMTask) -> LLMGateway:
        return LLMGateway(models.llm(task))

    async def job(graph: GraphStore) -> dict[str, Any]:
        result = await run_locomo_qa(
            load_locomo(data)[:limit_conversations],
            gold_answers(data),
            graph,
            make_embedder_for(settings, embedder),
            gateway("chat"),
            judge=gateway("judge") if judging else None,
            mode=mode,  # type: ignore[arg-type]
            preset=preset,
            token_budget=token_budget,
            limit_questions=limit_questions,
        )
        return result.to_dict()

    out = run_on_store(store, job, name="locomo-qa")
    report(out, as_json, _print_qa)
    _refuse_failures(
        out["judge_errors"],
        f"of {out['n_questions']} answers could not be graded by the judge and count as wrong",
        "--allow-judge-errors",
        allowed=allow_judge_errors,
    )


def _print_qa(out: dict[str, Any]) -> None:
    typer.echo(
        f"LoCoMo QA: model={out['model']}, judge={out['judge_model'] or 'none'}, "
        f"{out['n_questions']} questions, judge accuracy {out['judge_accuracy']}, "
        f"F1 {out['f1']}, judge errors {out['judge_errors']['count']}"
    )
    for cat, row in out["per_category"].items():
        typer.echo(
            f"  category {cat} ({row['name']}, n={row['n']}): judge {row['judge_accuracy']}, "
            f"F1 {row['f1']}"
        )


def register(app: typer.Typer) -> None:
    """Add ``sim`` and ``locomo-qa`` to the ``eval`` group."""
    eval_app.command("sim")(sim)
    eval_app.command("locomo-qa")(locomo_qa)
