"""``memlane chat`` and ``memlane demo``: the agent loop from the shell.

(``memlane ingest --extract`` runs a file of messages through the same loop's extraction.)

``MEMLANE_MODEL`` picks the model (default ``memlane/offline``, which needs no key and labels
everything it says).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import typer

from memlane.app.cli._common import (
    JsonOption,
    StoreOption,
    check_id_arg,
    check_user_arg,
    emit_json,
    load_settings,
    run,
)

__all__ = ["register"]


def chat(
    user: str = typer.Argument(
        ..., help="user id (whose memory and thread)", callback=check_user_arg
    ),
    session: str | None = typer.Option(
        None, "--session", help="conversation id", callback=check_id_arg
    ),
    defer: bool | None = typer.Option(
        None, "--defer/--inline", help="write memory in the background (default: settings)"
    ),
    store: str | None = StoreOption,
    stats: bool = typer.Option(
        False,
        "--stats",
        help="after each turn, one JSON line on stderr: status, facts, time, tokens",
    ),
) -> None:
    """Chat with memory. Interactive on a terminal; otherwise reads stdin line by line.

    Each line is one user turn: recall, reply (streamed), then memory is written. Empty
    lines are skipped; `exit` or end of input stops. The last line on stderr sums up the
    turns, how many were written and the LLM calls; the exit code is 1 when any turn's
    memory write failed (its message is stored all the same: `memlane retry-failed`).
    """
    from memlane.agent.api import MemoryAgent

    settings = load_settings(store)
    if defer is not None:
        settings = settings.model_copy(update={"defer_writes": defer})
    interactive = sys.stdin.isatty()

    def token(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    async def go() -> None:
        turns = failed = 0
        async with MemoryAgent(settings=settings) as agent:
            if interactive:
                typer.echo(f"memlane chat with {user} (model {settings.model}); exit with ^D")
            while True:
                line = await asyncio.to_thread(_read, interactive)
                if line is None or line.strip() in ("exit", "quit"):
                    break
                if not line.strip():
                    continue
                sys.stdout.write("assistant> ")
                started = time.perf_counter()
                result = await agent.achat(user, line, session_id=session, on_token=token)
                sys.stdout.write("\n")
                turns += 1
                if stats:
                    typer.echo(json.dumps(_turn_stats(turns, result, started)), err=True)
                failed += result.write_status == "failed"
                if result.write_status == "failed":
                    err = result.write_error or {}
                    typer.echo(
                        f"memory not updated [{err.get('code')}]: {err.get('message')}", err=True
                    )
            await agent.drain()
            failures = agent.write_errors()
            for failure in failures:
                typer.echo(f"background write failed: {failure.to_dict()}", err=True)
            failed += len(failures)
            totals = agent.status()["llm"]
        price = "" if not totals["unknown_price"] else " (unknown price: counted as 0)"
        typer.echo(
            f"chat: {turns} turns, {turns - failed} written, {failed} failed; "
            f"{totals['calls']} LLM calls ({totals['failed']} failed), "
            f"{totals['prompt_tokens'] + totals['completion_tokens']} tokens, "
            f"${totals['cost_usd']:.4f}{price}",
            err=True,
        )
        if failed:
            raise typer.Exit(1)

    run(go)


def _turn_stats(n: int, result: Any, started: float) -> dict[str, Any]:
    report = result.report
    return {
        "turn": n,
        "write_status": result.write_status,
        "facts_added": report.facts_added if report else 0,
        "facts_closed": report.facts_closed if report else 0,
        "error": (result.write_error or {}).get("code"),
        "latency_s": round(time.perf_counter() - started, 2),
        "calls": len(result.calls),
        "tokens": sum(c["prompt_tokens"] + c["completion_tokens"] for c in result.calls),
        "rung": next((c["rung"] for c in reversed(result.calls) if c.get("rung")), None),
    }


def retry_failed(
    user: str | None = typer.Argument(None, help="one user's failed turns (default: every user)"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Re-run extraction for turns whose memory write failed.

    Their messages were stored when they arrived; each failure was recorded with its code.
    Runs them oldest first with the configured extraction model; idempotent (a finished turn
    is never re-run) and all-or-nothing per turn. Exits 1 when any still fails.
    """
    from memlane.agent.api import MemoryAgent

    settings = load_settings(store)

    async def go() -> Any:
        async with MemoryAgent(settings=settings) as agent:
            return await agent.retry_failed(user)

    report = run(go)
    if as_json:
        emit_json(report.model_dump(mode="json"))
    else:
        typer.echo(
            f"retry-failed: {report.jobs} turns re-run, {report.done} done "
            f"({report.facts_added} facts added), {report.failed} still failing"
        )
        for error in report.errors:
            typer.echo(
                f"  {error.get('job')}: [{error.get('code')}] {error.get('message')}", err=True
            )
    if report.failed:
        raise typer.Exit(1)


def _read(interactive: bool) -> str | None:
    """The next line, or None at end of input."""
    if interactive:
        try:
            return input("you> ")
        except EOFError:
            return None
    line = sys.stdin.readline()
    return None if line == "" else line.rstrip("\n")


def demo(
    store: str | None = typer.Option(
        None, "--store", help="store URL (default: a new SQLite file in a temp directory)"
    ),
) -> None:
    """Play a scripted multi-session conversation and show the memory it leaves.

    The user moves city, changes job and a food preference, then tells an old story about
    the previous city. Prints the replies, the current profile and each changed fact's
    history with validity dates.
    """
    from memlane.app.demo import run_demo

    settings = load_settings()
    run(lambda: run_demo(settings, out=typer.echo, store=store))


def register(app: typer.Typer) -> None:
    """Add ``chat`` and ``demo`` to ``app``."""
    app.command("chat")(chat)
    app.command("retry-failed")(retry_failed)
    app.command("demo")(demo)
