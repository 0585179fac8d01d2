"""What every CLI command shares: settings, opening the store, running async code, errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from memlane.agent.bootstrap import make_registry, open_memory
from memlane.agent.settings import Settings, read_settings
from memlane.app.process import configure_process
from memlane.memory_graph.errors import InputError, MemlaneError
from memlane.memory_graph.ids import check_id, check_user_id

if TYPE_CHECKING:
    from pydantic import BaseModel

    from memlane.memory_graph.memory import Memory

__all__ = [
    "FactIdArg",
    "JsonOption",
    "StoreOption",
    "UserArg",
    "check_id_arg",
    "check_user_arg",
    "emit_json",
    "load_settings",
    "make_registry",
    "open_memory",
    "run",
    "show",
]

T = TypeVar("T")

StoreOption = typer.Option(
    None, "--store", help="store URL (sqlite:///path, falkordb://host:port/graph, neo4j://...)"
)
JsonOption = typer.Option(False, "--json", help="print machine-readable JSON on stdout")


def check_user_arg(value: str | None) -> str | None:
    """A typer callback: the argument is a user id, or the command ends with an error."""
    if value is None:
        return None
    try:
        return check_user_id(value, where="USER")
    except InputError as exc:
        fail(exc)


def check_id_arg(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """A typer callback: the argument is an id (a fact or a session), named in the error."""
    if value is None:
        return None
    try:
        return check_id(value, (param.name or "id").upper())
    except InputError as exc:
        fail(exc)


UserArg = typer.Argument(
    ..., help="the user whose memory to read or change", callback=check_user_arg
)
FactIdArg = typer.Argument(
    ..., help="a fact id (from profile, facts or search)", callback=check_id_arg
)


def load_settings(store: str | None = None) -> Settings:
    """Read settings once, at the edge; ``--store`` overrides ``MEMLANE_STORE``."""
    configure_process()
    try:
        settings = read_settings()
    except InputError as exc:
        fail(exc)
    if store:
        settings = settings.model_copy(update={"store": store})
    return settings


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; a :class:`MemlaneError` becomes a one-line message and exit code 2."""
    logging.basicConfig(level=os.environ.get("MEMLANE_LOG_LEVEL", "WARNING"))
    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except MemlaneError as exc:
        fail(exc)


def fail(exc: MemlaneError) -> NoReturn:
    """End the command: the error as one line on stderr, exit code 2."""
    typer.echo(f"error [{exc.code}]: {exc}", err=True)
    raise typer.Exit(2) from exc


def emit_json(data: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def show(
    store: str | None, as_json: bool, action: Callable[[Memory], Awaitable[BaseModel]]
) -> None:
    """Run a tools-layer call on the store and print its result: tables, or with ``--json``
    the result model (the same document the HTTP API returns for the operation)."""
    settings = load_settings(store)

    async def go() -> BaseModel:
        async with open_memory(settings) as memory:
            return await action(memory)

    result = run(go)
    if as_json:
        emit_json(result.model_dump(mode="json"))
    else:
        from rich.console import Console

        from memlane.app.cli._tool_tables import render

        render(Console(), result)
