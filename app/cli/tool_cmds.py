"""Inspecting and correcting memory: ``profile``, ``search``, ``why``, ``diff``, ``remember``,
``correct``, ``forget-fact``; and the servers: ``serve`` (HTTP API + inspector), ``mcp``.

Each command is a thin caller of ``tools``: rich tables by default, ``--json`` for scripts
(the tool's result model, as the HTTP API returns it). ``facts``, ``history``, ``forget`` and
``export`` call ``tools`` the same way from :mod:`memlane.app.cli.memory_cmds`.
"""

from __future__ import annotations

import typer

from memlane.app.cli._common import (
    FactIdArg,
    JsonOption,
    StoreOption,
    UserArg,
    check_id_arg,
    check_user_arg,
    load_settings,
    show,
)

__all__ = ["register"]

AsOfOption = typer.Option(None, "--as-of", help="a date or time (ISO 8601) in the user's world")


def register(app: typer.Typer) -> None:
    """Add the inspection, correction and server commands to ``app``."""
    from memlane.tools import commands, queries

    @app.command()
    def profile(
        user: str = UserArg,
        as_of: str | None = AsOfOption,
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """What memlane believes about USER now (or --as-of a date), grouped by kind."""
        show(store, as_json, lambda m: queries.profile(m, user, as_of))

    @app.command()
    def search(
        user: str = UserArg,
        query: str = typer.Argument(..., help="what to look for"),
        as_of: str | None = AsOfOption,
        k: int = typer.Option(10, "-k", help="how many facts and messages", min=1, max=100),
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Facts and messages of USER relevant to QUERY, with scores."""
        show(store, as_json, lambda m: queries.search(m, user, query, as_of, k), llm=False)

    @app.command()
    def why(
        user: str = UserArg,
        fact_id: str = FactIdArg,
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Why memlane believes a fact: source messages, when learned, what it replaced."""
        show(store, as_json, lambda m: queries.why(m, user, fact_id))

    @app.command()
    def diff(
        user: str = UserArg,
        since: str = typer.Argument(..., help="the earlier date or time"),
        until: str | None = typer.Argument(None, help="the later date or time (default: now)"),
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """What became true and what stopped being true for USER between two dates."""
        show(store, as_json, lambda m: queries.diff(m, user, since, until))

    @app.command()
    def remember(
        user: str = UserArg,
        statement: str = typer.Argument(..., help="what to remember, one sentence"),
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Remember STATEMENT about USER as an explicit note (sourced from this request)."""
        show(store, as_json, lambda m: commands.remember(m, user, statement))

    @app.command()
    def correct(
        user: str = UserArg,
        fact_id: str = typer.Argument(..., help="the fact that is wrong", callback=check_id_arg),
        value: str = typer.Argument(..., help="the right value"),
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Retract a wrong fact and record the right VALUE, sourced from the correction."""
        show(store, as_json, lambda m: commands.correct(m, user, fact_id, value))

    @app.command("forget-fact")
    def forget_fact(
        user: str = UserArg,
        fact_id: str = typer.Argument(..., help="the fact to delete", callback=check_id_arg),
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
    ) -> None:
        """Delete one fact of USER (``forget`` deletes everything)."""
        show(store, as_json, lambda m: commands.forget(m, user, fact_id))

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="interface to listen on"),
        port: int = typer.Option(8000, "--port", help="TCP port", min=1, max=65535),
        store: str | None = StoreOption,
    ) -> None:
        """Run the HTTP API, its OpenAPI docs (/docs) and the inspector (/inspect/USER).

        Set MEMLANE_API_KEY to require a key (X-API-Key header or Bearer token).
        """
        from memlane.app.server import serve as serve_http

        serve_http(load_settings(store), host=host, port=port)

    @app.command()
    def mcp(
        user: str = typer.Argument(
            ..., help="the user every tool call is scoped to", callback=check_user_arg
        ),
        store: str | None = StoreOption,
    ) -> None:
        """Run an MCP server on stdio exposing the memory tools for USER."""
        from memlane.app.mcp_server import run_stdio

        run_stdio(load_settings(store), user)
