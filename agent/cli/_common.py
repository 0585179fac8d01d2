"""What every CLI command shares: settings, opening the store, running async code, errors."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer

from agent.settings import Settings
from memory_graph.errors import MemlaneError

__all__ = ["StoreOption", "JsonOption", "emit_json", "load_settings", "run"]

T = TypeVar("T")

StoreOption = typer.Option(
    None, "--store", help="store URL (sqlite:///path, falkordb://host:port/graph, neo4j://...)"
)
JsonOption = typer.Option(False, "--json", help="print machine-readable JSON on stdout")


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
    settings = Settings()
    if store:
        settings = settings.model_copy(update={"store": store})
    return settings


def run(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine; a :class:`MemlaneError` becomes a one-line message and exit code 2."""
    logging.basicConfig(level=os.environ.get("MEMLANE_LOG_LEVEL", "WARNING"))
    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except MemlaneError as exc:
        typer.echo(f"error [{exc.code}]: {exc}", err=True)
        raise typer.Exit(2) from exc


def emit_json(data: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
