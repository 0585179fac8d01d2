"""``memlane chat``, ``memlane demo`` and ``memlane ingest-chat``: the agent loop from the shell.

``MEMLANE_MODEL`` picks the model (default ``memlane/offline``, which needs no key and labels
everything it says).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import typer

from agent.cli._common import JsonOption, StoreOption, emit_json, load_settings, run

__all__ = ["register"]


def chat(
    user: str = typer.Argument(..., help="user id (whose memory and thread)"),
    session: str | None = typer.Option(None, "--session", help="conversation id"),
    defer: bool | None = typer.Option(
        None, "--defer/--inline", help="write memory in the background (default: settings)"
    ),
    store: str | None = StoreOption,
) -> None:
    """Chat with memory. Interactive on a terminal; otherwise reads stdin line by line.

    Each line is one user turn: recall, reply (streamed), then memory is written. Empty
    lines are skipped; `exit` or end of input stops.
    """
    from agent.api import MemoryAgent

    settings = load_settings(store)
    if defer is not None:
        settings = settings.model_copy(update={"defer_writes": defer})
    interactive = sys.stdin.isatty()

    def token(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    async def go() -> None:
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
                result = await agent.achat(user, line, session_id=session, on_token=token)
                sys.stdout.write("\n")
                if result.write_status == "failed":
                    err = result.write_error or {}
                    typer.echo(
                        f"memory not updated [{err.get('code')}]: {err.get('message')}", err=True
                    )
            await agent.drain()
            failures = agent.write_errors()
            for failure in failures:
                typer.echo(f"background write failed: {failure.to_dict()}", err=True)
            if failures:
                raise typer.Exit(1)

    run(go)


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
    from agent.demo import run_demo

    settings = load_settings()
    run(lambda: run_demo(settings, out=typer.echo, store=store))


def ingest_chat(
    file: Path = typer.Argument(..., help="JSONL file of messages (see `memlane ingest`)"),
    user: str | None = typer.Option(None, "--user", help="user of lines without user_id"),
    batch: int = typer.Option(1, "--batch", min=1, help="user turns per extraction call"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Ingest a conversation THROUGH EXTRACTION: messages become episodes and facts.

    The file is validated first (a bad line stops everything, naming the line). Then each
    batch of turns is one LLM call and one atomic commit. `memlane ingest` stores messages
    without extraction.
    """
    from agent.api import IngestMessage, MemoryAgent
    from memory_graph.files import parse_file
    from memory_graph.predicates import default_registry

    settings = load_settings(store)

    async def go() -> list[dict[str, Any]]:
        registry = default_registry().extend(
            functional=settings.functional_predicates,
            multi_valued=settings.multi_valued_predicates,
            synonyms=settings.predicate_synonyms,
        )
        parsed = parse_file(file, registry, kind="messages", user_id=user)
        out = []
        async with MemoryAgent(settings=settings) as agent:
            for uid in parsed.users:
                messages = [
                    IngestMessage(
                        role=ep.role,
                        content=ep.content,
                        at=ep.occurred_at,
                        session_id=ep.session_id,
                        id=ep.id,
                        speaker=ep.speaker,
                    )
                    for ep in parsed.messages.get(uid, [])
                ]
                result = await agent.ingest(uid, messages, batch_turns=batch)
                out.append(
                    {
                        "user_id": uid,
                        "messages": result.messages,
                        "batches": result.batches,
                        "llm_calls": result.llm_calls,
                        "facts_added": result.facts_added,
                        "facts_closed": result.facts_closed,
                    }
                )
        return out

    rows = run(go)
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        typer.echo(
            f"{row['user_id']}: {row['messages']} messages in {row['batches']} batches "
            f"({row['llm_calls']} LLM calls): +{row['facts_added']} facts, "
            f"{row['facts_closed']} closed"
        )


def register(app: typer.Typer) -> None:
    """Add ``chat``, ``demo`` and ``ingest-chat`` to ``app``."""
    app.command("chat")(chat)
    app.command("demo")(demo)
    app.command("ingest-chat")(ingest_chat)
