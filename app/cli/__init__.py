"""The ``memlane`` command: a thin layer over the Python API.

Each command group lives in its own module and registers itself on the one Typer app.
"""

from __future__ import annotations

import typer

from memlane.app.cli import chat_cmds, eval_cmds, memory_cmds, sim_cmds, store_cmds, tool_cmds
from memlane.app.cli._common import set_model_flags

__all__ = ["app", "main"]

app = typer.Typer(
    name="memlane",
    help="memlane: a temporal knowledge-graph memory layer for chat agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _models(
    model: str | None = typer.Option(
        None, "--model", help="the chat model, any LiteLLM name (MEMLANE_MODEL)"
    ),
    api_base: str | None = typer.Option(
        None, "--api-base", help="the chat model's endpoint, e.g. http://127.0.0.1:8080/v1"
    ),
    api_key: str | None = typer.Option(
        None,
        "--api-key",
        help="the chat model's key (prefer MEMLANE_CHAT__API_KEY: a flag shows in `ps`)",
    ),
    llm: list[str] = typer.Option(
        [],
        "--llm",
        help="TASK.FIELD=VALUE for chat|extraction|judge and model|api_base|api_key|timeout_s|"
        "max_tokens|max_retries|options (repeatable), e.g. --llm extraction.max_tokens=800",
    ),
) -> None:
    """memlane: a temporal knowledge-graph memory layer for chat agents."""
    set_model_flags({"model": model, "api_base": api_base, "api_key": api_key, "llm": llm})


for _module in (memory_cmds, chat_cmds, eval_cmds, sim_cmds, store_cmds, tool_cmds):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    app()
