"""What every CLI command shares: settings, opening the store, running async code, errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from memlane.agent.settings import Settings, make_registry, read_settings
from memlane.memory_graph.errors import InputError, MemlaneError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from memlane.memory_graph.memory import Memory

__all__ = [
    "JsonOption",
    "StoreOption",
    "UserArg",
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
UserArg = typer.Argument(..., help="the user whose memory to read or change")


def load_settings(store: str | None = None) -> Settings:
    """Read settings once, at the edge; ``--store`` overrides ``MEMLANE_STORE``."""
    # Offline defaults for the libraries we load (no hub look-ups, local cost map).
    for key, value in (
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(key, value)
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


@asynccontextmanager
async def open_memory(settings: Settings) -> AsyncIterator[Memory]:
    """A :class:`Memory` over the store and embedder the settings name; closes the store."""
    from memlane.memory_graph.embedding.models import make_embedder
    from memlane.memory_graph.memory import Memory
    from memlane.memory_graph.stores import open_store

    registry = make_registry(settings)
    store = open_store(settings.store)
    async with store:
        yield Memory(
            store,
            make_embedder(settings.embedder, settings.embed_precision),
            registry=registry,
            retrieval=settings.retrieval_preset,
        )
