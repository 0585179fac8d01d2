"""``memlane eval sim`` and ``memlane eval locomo-qa``: simulated users and answer quality."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from agent.cli._common import JsonOption, emit_json, load_settings, run
from agent.cli.eval_cmds import eval_app
from memory_graph.errors import InputError

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
) -> None:
    """Simulated long-horizon evaluation: a user whose life changes over many sessions.

    Each session goes through the MemoryAgent (extraction by the model, reconciliation,
    store), or with --gold the simulator's true facts are committed directly (separating
    extraction errors from storage/temporal/retrieval errors). At every checkpoint probes
    with exact answers are read from memory: current value, value as of a date, history,
    when it changed, preference, sets, multi-hop and abstention. Two current values of a
    functional predicate are counted as consistency violations after every session.
    """
    from evals.report import aggregate, write_report
    from evals.sim_runner import SimConfig, SimResult, run_simulation

    settings = load_settings(store)
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

    results = run(go)
    summary = aggregate(results)
    if out is not None:
        paths = write_report(results, out)
        if not as_json:
            typer.echo(f"report: {paths['markdown']} (+ sim.json and PNG plots)")
    if as_json:
        emit_json(summary)
        return
    _print(summary)


def _print(summary: dict[str, Any]) -> None:
    acc = summary["accuracy"]
    typer.echo(
        f"simulated user: writer={summary['writer']}, {summary['sessions']} sessions, "
        f"{summary['turns']} turns"
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


def register(app: typer.Typer) -> None:
    """Add ``sim`` (and ``locomo-qa``) to the ``eval`` group."""
    eval_app.command("sim")(sim)
