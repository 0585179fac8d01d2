"""The ``memlane`` command: a thin layer over the Python API.

Each command group lives in its own module and registers itself on the one Typer app.
"""

from __future__ import annotations

import typer

from memlane.app.cli import chat_cmds, eval_cmds, memory_cmds, sim_cmds, store_cmds, tool_cmds

__all__ = ["app", "main"]

app = typer.Typer(
    name="memlane",
    help="memlane: a temporal knowledge-graph memory layer for chat agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _module in (memory_cmds, chat_cmds, eval_cmds, sim_cmds, store_cmds, tool_cmds):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
