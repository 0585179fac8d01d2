"""Every ``memlane`` command has help text and is documented (docs/cli.md or README.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer.main

from memlane.app.cli import app

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "cli.md", ROOT / "README.md"]


def _commands(group: click.Command, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(getattr(group, "commands", {}).items()):
        path = f"{prefix}{name}"
        yield path, command
        yield from _commands(command, path + " ")


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_there_are_commands() -> None:
    assert {"profile", "why", "diff", "serve", "mcp"} <= {name for name, _ in COMMANDS}


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_and_docs(name: str, command: click.Command) -> None:
    assert (command.help or command.short_help or "").strip(), f"`memlane {name}` has no help"
    text = "\n".join(p.read_text() for p in DOCS if p.exists())
    pattern = re.compile(rf"memlane {re.escape(name)}(?![\w-])")
    assert pattern.search(text), f"`memlane {name}` is not in docs/cli.md or README.md"
