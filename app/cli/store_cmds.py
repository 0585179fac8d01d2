"""``memlane migrate`` and ``memlane doctor``: moving memory between stores, checking a store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from memlane.app.cli._common import JsonOption, StoreOption, emit_json, load_settings, run

if TYPE_CHECKING:
    from memlane.agent.settings import Settings


def _migrate(source_url: str, target_url: str, users: list[str] | None, batch: int) -> dict:
    async def go() -> dict:
        from memlane.memory_graph.stores import open_store
        from memlane.memory_graph.stores.migrate import copy_store

        def progress(line: str) -> None:
            typer.echo(line, err=True)

        async with open_store(source_url) as source, open_store(target_url) as target:
            report = await copy_store(
                source, target, users=users or None, batch=batch, progress=progress
            )
        return {"from": source.url, "to": target.url, **report.totals, "users_copied": report.users}

    return run(go)


def _missing_file(store: object) -> str | None:
    """What is missing when ``store`` is a SQLite file that does not exist, else None."""
    from memlane.memory_graph.stores.sqlite import SQLiteStore

    if not isinstance(store, SQLiteStore) or store.path.is_file():
        return None
    if store.path.exists():
        return f"{store.path} is not a file"
    folder = next((p for p in store.path.parents if p.exists()), None)
    if folder != store.path.parent:
        return f"no database at {store.path}: the directory {store.path.parent} does not exist"
    return f"no database at {store.path}: the file does not exist"


def _doctor(url: str) -> tuple[bool, dict]:
    async def go() -> tuple[bool, dict]:
        from memlane.memory_graph.errors import MemlaneError
        from memlane.memory_graph.stores import open_store

        store = open_store(url)
        missing = _missing_file(store)
        if missing:
            # Opening would create the file (and its directories): a typo would look healthy.
            return False, {"url": store.url, "ok": False, "problems": [missing], "details": {}}
        try:
            await store.open()
        except MemlaneError as exc:
            # store.url never shows a password; the URL as typed might.
            return False, {"url": store.url, "ok": False, "problems": [str(exc)], "details": {}}
        try:
            info = await store.info()
        finally:
            await store.close()
        out = {
            "url": info.url,
            "backend": info.backend,
            "ok": info.ok,
            "problems": list(info.problems),
            "details": info.details,
        }
        return info.ok, out

    return run(go)


def _model_check(settings: Settings) -> tuple[list[str], dict]:
    """The configured extraction model's endpoint: reachable, and which structured-output
    rung it is on, with at most one short call (see :func:`memlane.llm.gateway.probe`)."""

    async def go() -> dict:
        from memlane.llm.gateway import LLMGateway, probe
        from memlane.llm.offline.provider import is_offline

        config = settings.llm("extraction")
        if is_offline(config.model):  # in-process: nothing to reach, no call to spend
            return {
                "model": config.model,
                "api_base": None,
                "reachable": True,
                "rung": "offline (in-process)",
                "calls": 0,
                "latency_s": 0.0,
                "error": None,
            }
        return await probe(LLMGateway(config))

    found = run(go)
    problems = []
    if not found["reachable"]:
        problems.append(f"model {found['model']} is not reachable: {found['error']}")
    elif found["error"]:
        problems.append(f"model {found['model']}: {found['error']}")
    return problems, found


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""

    @app.command("migrate")
    def migrate(
        source: str = typer.Option(..., "--from", help="store URL to copy from"),
        target: str = typer.Option(..., "--to", help="store URL to copy into (new users only)"),
        user: list[str] = typer.Option(
            [], "--user", help="copy only this user (repeatable); default: every user"
        ),
        batch: int = typer.Option(500, "--batch", min=1, help="records per atomic write"),
        as_json: bool = JsonOption,
    ) -> None:
        """Copy every user's memory (full history and vectors) and chat threads from one
        store to another.

        Goes through the export format, so any store can be either side (sqlite:///...,
        falkordb://..., neo4j://...). The target must not hold the copied users yet. Counts
        are verified per user (and per thread); progress goes to stderr.
        """
        result = _migrate(source, target, user, batch)
        if as_json:
            emit_json(result)
        else:
            typer.echo(
                f"copied {result['users']} users: {result['episodes']} episodes, "
                f"{result['entities']} entities, {result['facts']} facts, "
                f"{result['threads']} chat threads ({result['checkpoints']} checkpoints) "
                f"from {result['from']} to {result['to']} (counts verified)"
            )

    @app.command("doctor")
    def doctor(
        store: str | None = StoreOption,
        as_json: bool = JsonOption,
        model_check: bool = typer.Option(
            True, "--model/--no-model", help="also check the extraction model's endpoint"
        ),
    ) -> None:
        """Check a store: can it be reached, is the schema current, are its indexes online;
        and the configured model: is its endpoint reachable, which structured-output form
        it takes (one short call).

        Creates nothing: a SQLite file that does not exist is a problem, not a new store.
        Exits 1 and lists what is wrong when anything is.
        """
        settings = load_settings(store)
        ok, report = _doctor(settings.store)
        if model_check:
            problems, found = _model_check(settings)
            report["details"]["model"] = (
                f"{found['model']} at {found['api_base'] or 'its default endpoint'}: "
                f"{'reachable' if found['reachable'] else 'NOT reachable'}, "
                f"structured output {found['rung'] or '?'} ({found['calls']} call"
                f"{'s' if found['calls'] != 1 else ''}, {found['latency_s']}s)"
            )
            report["problems"].extend(problems)
            ok = ok and not problems
            report["ok"] = ok
        if as_json:
            emit_json(report)
        else:
            typer.echo(f"store:   {report['url']}")
            for key, value in report["details"].items():
                if isinstance(value, list):
                    typer.echo(f"{key}:")
                    for item in value:
                        typer.echo(f"  - {item}")
                else:
                    typer.echo(f"{key}: {value}")
            if ok:
                typer.echo("ok: no problems found")
            for problem in report["problems"]:
                typer.echo(f"PROBLEM: {problem}", err=True)
        if not ok:
            raise typer.Exit(1)
