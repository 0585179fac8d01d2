"""``memlane eval ...``: evaluations (LoCoMo evidence recall, dialogues, simulated users)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from memlane.app.cli._common import JsonOption, emit_json, load_settings, run
from memlane.memory_graph.errors import InputError

if TYPE_CHECKING:
    from memlane.memory_graph.stores.base import GraphStore

__all__ = ["eval_app", "register", "report", "run_on_store"]

eval_app = typer.Typer(help="Run evaluations and print their scores.", no_args_is_help=True)


def run_on_store(
    store: str | None, job: Callable[[GraphStore], Awaitable[dict[str, Any]]], *, name: str
) -> dict[str, Any]:
    """Run an evaluation on the store at ``store``, or on a temporary SQLite file deleted
    afterwards; returns its JSON-ready scores (a :class:`MemlaneError` exits with status 2).

    Args:
        store: a store URL (``--store``), or None for a temporary one.
        job: the evaluation, given the opened store.
        name: names the temporary directory (``memlane-{name}-...``).
    """
    from memlane.memory_graph.stores import open_store

    async def go() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix=f"memlane-{name}-") as tmp:
            url = store or f"sqlite:///{Path(tmp) / f'{name}.db'}"
            async with open_store(url) as graph:
                return await job(graph)

    return run(go)


def report(out: dict[str, Any], as_json: bool, render: Callable[[dict[str, Any]], None]) -> None:
    """Print an evaluation's scores: one JSON document with ``--json``, else ``render`` them."""
    if as_json:
        emit_json(out)
    else:
        render(out)


def _ks(text: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as exc:
        raise InputError(f"--k takes comma-separated integers, got {text!r}", where="k") from exc
    if not ks or ks[0] < 1:
        raise InputError(f"--k takes positive integers, got {text!r}", where="k")
    return ks


@eval_app.command("locomo")
def locomo(
    data: Path = typer.Option(..., "--data", help="a LoCoMo-format JSON file (locomo10.json)"),
    mode: str = typer.Option(
        "both", "--mode", help="what is ingested: turns, observations (as facts), or both"
    ),
    k: str = typer.Option("5,10,20", "--k", help="comma-separated cut-offs for recall@k"),
    as_json: bool = JsonOption,
    store: str | None = typer.Option(
        None, "--store", help="store URL (default: a temporary SQLite file, deleted afterwards)"
    ),
    limit_conversations: int | None = typer.Option(
        None, "--limit-conversations", min=1, help="only the first N conversations"
    ),
    embedder: str | None = typer.Option(
        None, "--embedder", help="minilm (default), hash, or a sentence-transformers path"
    ),
    preset: str = typer.Option("balanced", "--preset", help="retrieval preset: fast|balanced|deep"),
    token_budget: int | None = typer.Option(
        None, "--token-budget", min=50, help="context token budget per question"
    ),
    embed_cache: Path | None = typer.Option(
        None, "--embed-cache", help="directory caching embeddings between runs (not the repo)"
    ),
) -> None:
    """LoCoMo evidence recall: ingest each conversation, ask every category 1-4 question
    through Memory.recall, and score recall@k of the evidence turns (no LLM needed).

    Each conversation is its own user. With --store the data is written there (use a
    scratch store); by default a temporary SQLite file is used. Progress goes to stderr.
    """
    from memlane.agent.bootstrap import make_embedder_for
    from memlane.evals.locomo import load_locomo, run_locomo
    from memlane.memory_graph.embedding.models import CachingEmbedder

    settings = load_settings(store)
    if mode not in ("turns", "observations", "both"):
        raise typer.BadParameter("use turns, observations or both", param_hint="--mode")

    async def job(graph: GraphStore) -> dict[str, Any]:
        ks = _ks(k)
        conversations = load_locomo(data)[:limit_conversations]
        emb = make_embedder_for(settings, embedder)
        if embed_cache is not None:
            emb = CachingEmbedder(emb, embed_cache)
        result = await run_locomo(
            conversations,
            graph,
            emb,
            mode=mode,  # type: ignore[arg-type]
            ks=ks,
            preset=preset,
            token_budget=token_budget,
        )
        return result.to_dict()

    report(run_on_store(store, job, name="locomo"), as_json, _print_locomo)


def _print_locomo(out: dict[str, Any]) -> None:
    typer.echo(
        f"LoCoMo evidence recall, mode={out['mode']}, {out['n_questions']} questions, "
        f"embedder={out['embedder']}, preset={out['preset']}"
    )
    typer.echo("recall@k: " + json.dumps(out["recall_at"]))
    for cat, row in out["per_category"].items():
        scores = json.dumps(row["recall_at"])
        typer.echo(f"  category {cat} ({row['name']}, n={row['n']}): {scores}")
    lat, tok = out["latency_ms"], out["context_tokens"]
    typer.echo(f"latency ms p50 {lat['p50']} p95 {lat['p95']}; context tokens {tok['median']}")


@eval_app.command("dialogues")
def dialogues(
    data: Path = typer.Option(..., "--data", help="a dialogues-format JSON file"),
    gold: bool = typer.Option(
        False, "--gold", help="commit the annotated facts (Memory.commit) instead of extracting"
    ),
    turns_only: bool = typer.Option(
        False, "--turns-only", help="store only the messages (the raw-turns baseline)"
    ),
    as_json: bool = JsonOption,
    out: Path | None = typer.Option(
        None, "--out", help="report directory: this run's JSON, dialogues.md, dialogues.png"
    ),
    store: str | None = typer.Option(
        None, "--store", help="store URL (default: a temporary SQLite file, deleted afterwards)"
    ),
    embedder: str | None = typer.Option(
        None, "--embedder", help="minilm (default), hash, or a sentence-transformers path"
    ),
    limit_users: int | None = typer.Option(None, "--limit-users", min=1, help="first N users"),
) -> None:
    """Memory on hand-written dialogues: drive each user's messages through the MemoryAgent
    at their own times with the configured model (MEMLANE_MODEL; the offline model by
    default), then score fact recall, precision, changes handled, stale values kept out and
    questions answered per type against the file's annotations.

    --gold commits the annotated facts instead (memory's time rules on perfect extraction);
    --turns-only stores only the messages and scores questions on the top 5 messages. With
    --out, runs written to one directory are charted side by side. Progress goes to stderr.
    """
    from langgraph.checkpoint.memory import InMemorySaver

    from memlane.agent.api import MemoryAgent
    from memlane.agent.bootstrap import build_memory, make_embedder_for
    from memlane.evals.dialogues import load_dialogues, make_clock, run_dialogues
    from memlane.evals.dialogues_report import write_report
    from memlane.llm.gateway import LLMGateway

    if gold and turns_only:
        raise typer.BadParameter("use at most one of --gold and --turns-only", param_hint="--gold")
    settings = load_settings(store).model_copy(update={"defer_writes": False})
    mode = "gold" if gold else "turns" if turns_only else "agent"

    async def job(graph: GraphStore) -> dict[str, Any]:
        users = load_dialogues(data)[:limit_users]
        clock = make_clock()
        memory = build_memory(
            settings, store=graph, embedder=make_embedder_for(settings, embedder), clock=clock
        )
        gateway = agent = None
        if mode == "agent":
            # The configured chat and extraction models with their endpoints and keys, as the
            # agent builds them (the gateway is made here for its call accounting).
            gateway = LLMGateway(settings.llm("chat"))
            extraction = settings.llm("extraction")
            extraction_gateway = (
                LLMGateway(extraction, accounting=gateway.accounting)
                if extraction != gateway.config
                else None
            )
            # Threads live in memory: an evaluation leaves no checkpoint file behind.
            agent = MemoryAgent(
                settings=settings,
                memory=memory,
                gateway=gateway,
                extraction_gateway=extraction_gateway,
                checkpointer=InMemorySaver(),
            )
            await agent.__aenter__()
        try:
            result = await run_dialogues(
                users,
                memory,
                mode=mode,  # type: ignore[arg-type]
                clock=clock,
                agent=agent,
                gateway=gateway,
                model=settings.model,
            )
        finally:
            if agent is not None:
                await agent.aclose()
        if out is not None:
            write_report(result, out)
        return result.to_dict()

    report(run_on_store(store, job, name="dialogues"), as_json, _print_dialogues)


def _print_dialogues(out: dict[str, Any]) -> None:
    t = out["totals"]
    typer.echo(
        f"dialogues, mode={out['mode']}, model={out['model']}, {t['users']} users, "
        f"{t['turns']} messages"
    )
    for key in (
        "fact_recall",
        "closed_recall",
        "precision",
        "changes_handled",
        "stale_kept_out",
        "identity_overwrites",
        "questions_answered",
        "answer_first",
        "answer_in_context",
        "abstain_passed",
    ):
        typer.echo(f"  {key}: {t[key]}")
    per_type = ", ".join(f"{k} {v['right']}/{v['n']}" for k, v in out["questions"].items())
    typer.echo(f"  questions per type: {per_type}")
    lat, llm = out["latency_ms"], out["llm"]
    typer.echo(
        f"  turn latency ms p50 {lat['p50']} p95 {lat['p95']}; LLM calls/turn "
        f"{llm['calls_per_turn']}, tokens/turn {llm['tokens_per_turn']}"
    )
    if out["write_errors"]:
        typer.echo(f"  write errors: {len(out['write_errors'])}")


def register(app: typer.Typer) -> None:
    """Add the ``eval`` group to ``app``."""
    app.add_typer(eval_app, name="eval")
