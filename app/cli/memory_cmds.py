"""Memory commands: ingest files (as given or through extraction), recall, facts, history,
export/import, forget.

A thin layer: each command opens the store named by ``--store`` (or ``MEMLANE_STORE``), calls
one function, and prints a Rich table or, with ``--json``, one JSON document on stdout.
``facts``, ``history``, ``forget`` and ``export`` call the tools layer (:mod:`memlane.tools`),
so their JSON is the tool's result model, the same document the HTTP API returns; ``ingest``,
``recall`` and ``import`` call :class:`memlane.memory_graph.memory.Memory`, and ``ingest --extract``
:meth:`memlane.agent.api.MemoryAgent.ingest`. Errors print ``error [code]: message`` on stderr and
exit with status 2.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from memlane.agent.settings import Settings
from memlane.app.cli._common import (
    JsonOption,
    StoreOption,
    UserArg,
    check_user_arg,
    emit_json,
    fail,
    load_settings,
    make_registry,
    open_memory,
    run,
    show,
)
from memlane.memory_graph.errors import InputError
from memlane.memory_graph.files import FileKind, ingest_file, parse_file
from memlane.memory_graph.jsonl import parse_json_line
from memlane.tools import commands, queries
from memlane.tools.models import Export, Forgotten

if TYPE_CHECKING:
    from memlane.memory_graph.memory import Memory

__all__ = ["register"]

_PROGRESS_FROM = 500  # records; smaller files finish before a bar would be useful


def _console() -> Console:
    return Console(soft_wrap=False)


def _count_lines(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    except OSError:
        return 0  # ingest_file reports the problem with the file


def ingest(
    file: Path = typer.Argument(..., help="JSONL file of messages and/or facts"),
    kind: str | None = typer.Option(
        None, "--kind", help="messages or facts (default: detected per line)"
    ),
    user: str | None = typer.Option(
        None, "--user", help="user of lines without user_id", callback=check_user_arg
    ),
    extract: bool = typer.Option(
        False, "--extract", help="run the messages through the model's extraction"
    ),
    batch: int = typer.Option(1, "--batch", min=1, help="with --extract: user turns per call"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Validate a whole JSONL file, then store its messages and facts.

    Every line is checked first; one bad line stops the ingest with its line number and
    nothing is written. Re-ingesting a file adds nothing new. Without --extract no LLM is
    called: messages become episodes and facts lines are committed as given. With --extract
    the file holds messages, and each batch of --batch user turns is one extraction call
    (MEMLANE_MODEL) and one atomic commit of the episodes and the facts found in them.
    """
    settings = load_settings(store)
    if kind is not None and kind not in ("messages", "facts"):
        raise typer.BadParameter("use messages or facts", param_hint="--kind")
    if extract and kind == "facts":
        raise typer.BadParameter("--extract reads messages, not facts", param_hint="--kind")
    if batch != 1 and not extract:
        raise typer.BadParameter("--batch goes with --extract", param_hint="--batch")
    if extract:
        _ingest_extracting(settings, file, user, batch, as_json)
        return
    file_kind: FileKind | None = kind  # type: ignore[assignment]

    async def go() -> Any:
        total = _count_lines(file)
        from tqdm import tqdm

        with tqdm(
            total=total,
            unit="rec",
            desc=f"ingest {file.name}",
            file=sys.stderr,
            disable=total < _PROGRESS_FROM,
        ) as bar:
            async with open_memory(settings) as memory:
                return await ingest_file(
                    memory, file, kind=file_kind, user_id=user, on_progress=bar.update
                )

    report = run(go)
    if as_json:
        emit_json(report.model_dump(mode="json"))
        return
    console = _console()
    console.print(
        f"[bold]{report.path}[/]: {report.lines} lines ({report.kind}) for "
        f"{len(report.users)} user(s)"
    )
    table = Table(show_header=False, box=None)
    for label, value in (
        ("episodes added", report.episodes_added),
        ("episodes already stored", report.episodes_skipped),
        ("entities added", report.entities_added),
        ("facts added", report.facts_added),
        ("facts closed", report.facts_closed),
        ("facts restated", report.facts_merged),
    ):
        table.add_row(label, str(value))
    console.print(table)


def _ingest_extracting(
    settings: Settings, file: Path, user: str | None, batch: int, as_json: bool
) -> None:
    """``ingest --extract``: the whole file validated, then each user's messages through
    :meth:`MemoryAgent.ingest` (the same path as ``POST /users/{user}/ingest``)."""
    from memlane.agent.api import IngestMessage, IngestResult, MemoryAgent

    async def go() -> list[IngestResult]:
        parsed = parse_file(file, make_registry(settings), kind="messages", user_id=user)
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
                out.append(await agent.ingest(uid, messages, batch_turns=batch))
        return out

    results = run(go)
    if as_json:
        emit_json([r.model_dump(mode="json") for r in results])
        return
    for r in results:
        typer.echo(
            f"{r.user_id}: {r.messages} messages in {r.batches} batches "
            f"({r.llm_calls} LLM calls): +{r.facts_added} facts, {r.facts_closed} closed"
        )


def recall(
    user: str = UserArg,
    query: str | None = typer.Argument(None, help="what to recall for (or --queries FILE)"),
    queries_file: Path | None = typer.Option(
        None,
        "--queries",
        help="a file of queries, one a line ('-': stdin): the model loads once and each "
        "query prints one line (one JSON line each with --json)",
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="recall the world as of this date"),
    preset: str | None = typer.Option(None, "--preset", help="retrieval preset (fast, ...)"),
    tokens: int | None = typer.Option(None, "--tokens", help="token budget of the context"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Recall what memlane knows that is relevant to QUERY, as the agent would."""
    settings = load_settings(store, llm=False)
    if queries_file is not None:
        if query is not None:
            fail(InputError("give a QUERY or --queries FILE, not both", where="query"))
        asked = _read_queries(queries_file)
    elif query is None or not query.strip():
        fail(InputError("the query is empty; ask something", where="query"))
    else:
        asked = [query]

    async def go() -> list[Any]:
        async with open_memory(settings) as memory:
            out = []
            for text in asked:
                ctx = await memory.recall(
                    user,
                    text,
                    as_of=as_of,
                    preset=preset,
                    token_budget=tokens or settings.context_tokens,
                )
                if queries_file is not None:  # stream: a long batch shows progress
                    _print_context(ctx, as_json, one_line=True)
                out.append(ctx)
            return out

    found = run(go)
    if queries_file is None:
        _print_context(found[0], as_json, one_line=False)


def _read_queries(path: Path) -> list[str]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(InputError(f"cannot read the queries file: {exc.strerror}", where=str(path)))
    asked = [line.strip() for line in text.splitlines() if line.strip()]
    if not asked:
        fail(InputError("the queries file holds no query", where=str(path)))
    return asked


def _print_context(ctx: Any, as_json: bool, *, one_line: bool) -> None:
    if as_json:
        emit_json(ctx.model_dump(mode="json"))
        return
    console = _console()
    if one_line:
        console.print(f"[bold]{ctx.query}[/]")
    console.print(ctx.text or "[dim](nothing relevant remembered)[/]", markup=not ctx.text)
    console.print(
        f"[dim]{len(ctx.facts)} facts, {len(ctx.episodes)} episodes, {ctx.tokens} tokens[/]"
    )


def facts(
    user: str = UserArg,
    as_of: str | None = typer.Option(None, "--as-of", help="facts true at this date"),
    subject: str | None = typer.Option(None, "--subject", help="entity name ('user' = the user)"),
    predicate: str | None = typer.Option(None, "--predicate", help="predicate or synonym"),
    show_all: bool = typer.Option(False, "--all", help="include ended facts (history)"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """List a user's facts: current ones by default, as of a date, or --all."""
    show(store, as_json, lambda m: queries.facts(m, user, subject, predicate, as_of, show_all))


def history(
    user: str = UserArg,
    subject: str = typer.Argument(..., help="entity name ('user' = the user)"),
    predicate: str = typer.Argument(..., help="predicate or synonym"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Every value SUBJECT's PREDICATE has had, oldest first, with validity windows."""
    show(store, as_json, lambda m: queries.history(m, user, subject, predicate))


def forget(
    user: str = UserArg,
    yes: bool = typer.Option(False, "--yes", "-y", help="do not ask for confirmation"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Delete everything memlane holds about USER (episodes, entities, facts, vectors, chat
    threads)."""
    if not yes and not typer.confirm(f"Delete all memory of {user!r}?", default=False):
        typer.echo("aborted; nothing deleted", err=True)
        raise typer.Exit(1)
    override = load_settings(store).checkpoint_db

    async def everything(memory: Memory) -> Forgotten:
        from memlane.agent.threads import forget_threads_beside

        forgotten = await commands.forget(memory, user, everything=True)
        beside = await forget_threads_beside(memory.store, override, user)
        if beside:
            forgotten.deleted["checkpoints"] = forgotten.deleted.get("checkpoints", 0) + beside
        return forgotten

    show(store, as_json, everything)


def export(
    user: str = UserArg,
    output: Path | None = typer.Option(None, "-o", "--output", help="file (default: stdout)"),
    store: str | None = StoreOption,
) -> None:
    """Write every record of USER as JSONL (the format `memlane import` reads)."""
    settings = load_settings(store)

    async def go() -> Export:
        async with open_memory(settings) as memory:
            return await queries.export(memory, user)

    result = run(go)
    if output is None:
        sys.stdout.writelines(result.jsonl())
        return
    # Write beside the target and rename, so a failed export never leaves half a file.
    fd, tmp = tempfile.mkstemp(dir=output.parent or Path("."), suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(result.jsonl())
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    typer.echo(f"exported {len(result.records)} records of {user} to {output}", err=True)


def _read_records(path: Path) -> list[tuple[int, Any]]:
    """Non-blank lines of a JSONL file, parsed, with their line numbers."""
    out: list[tuple[int, Any]] = []
    try:
        with open(path, "rb") as fh:
            for line, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                where = f"{path}:{line}"
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(f"not UTF-8 text (byte {exc.start})", where=where) from exc
                out.append((line, parse_json_line(text, where=where)))
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", where=str(path)) from exc
    return out


def import_(
    file: Path = typer.Argument(..., help="JSONL written by `memlane export`"),
    store: str | None = StoreOption,
    as_json: bool = JsonOption,
) -> None:
    """Load records written by `memlane export` (all lines are checked before any write)."""
    settings = load_settings(store)

    async def go() -> dict[str, int]:
        numbered = _read_records(file)
        lines = [line for line, _ in numbered]
        async with open_memory(settings) as memory:
            try:
                return await memory.import_records(
                    [rec for _, rec in numbered],
                    where_fmt="#{n}",
                )
            except InputError as exc:
                # Name the file line, not the record's position among non-blank lines.
                where = exc.where or ""
                if where.startswith("#") and where[1:].split()[0].isdigit():
                    head, _, rest = where[1:].partition(" ")
                    where = f"{file}:{lines[int(head) - 1]}" + (f" {rest}" if rest else "")
                raise InputError(exc.message, where=where) from exc

    counts = run(go)
    if as_json:
        emit_json(counts)
        return
    _console().print(
        f"imported {counts['episodes']} episodes, {counts['entities']} entities, "
        f"{counts['facts']} facts for {counts['users']} user(s)"
    )


def register(app: typer.Typer) -> None:
    """Add the memory commands to ``app``."""
    app.command("ingest")(ingest)
    app.command("recall")(recall)
    app.command("facts")(facts)
    app.command("history")(history)
    app.command("forget")(forget)
    app.command("export")(export)
    app.command("import")(import_)
