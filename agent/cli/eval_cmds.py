"""``memlane eval ...``: evaluations (LoCoMo evidence recall, simulated long-horizon users)."""

from __future__ import annotations

import typer

eval_app = typer.Typer(help="Run evaluations and print their scores.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``eval`` group to ``app``."""
    app.add_typer(eval_app, name="eval")
