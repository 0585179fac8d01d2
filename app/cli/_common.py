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
from pydantic import ValidationError

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


LLM_FIELDS = ("model", "api_base", "api_key", "timeout_s", "max_tokens", "max_retries", "options")


def model_overrides(
    settings: Settings,
    *,
    model: str | None,
    api_base: str | None,
    api_key: str | None,
    llm: list[str],
) -> Settings:
    """Settings with the model flags applied (``--model``, ``--api-base``, ``--api-key`` for
    the chat model; ``--llm TASK.FIELD=VALUE`` for any task's field; a VALUE that parses as
    JSON is used as such, e.g. ``--llm 'chat.options={"temperature": 0}'``).

    Raises:
        InputError: a malformed ``--llm`` or an invalid value (naming the flag).
    """
    from memlane.agent.settings import ModelSettings

    tasks: dict[str, dict[str, Any]] = {}
    if api_base is not None:
        tasks.setdefault("chat", {})["api_base"] = api_base
    if api_key is not None:
        tasks.setdefault("chat", {})["api_key"] = api_key
    for item in llm:
        key, sep, raw = item.partition("=")
        task, dot, name = key.strip().partition(".")
        if (
            not sep
            or not dot
            or task not in ("chat", "extraction", "judge")
            or name not in LLM_FIELDS
        ):
            raise InputError(
                f"expected TASK.FIELD=VALUE with TASK chat|extraction|judge and FIELD one of "
                f"{', '.join(LLM_FIELDS)}; got {item.split('=')[0]!r}",
                where="--llm",
            )
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if name in ("model", "api_base", "api_key") and not isinstance(value, str):
            value = raw
        tasks.setdefault(task, {})[name] = value
    update: dict[str, Any] = {}
    if model is not None:
        update["model"] = model
    for task, fields in tasks.items():
        current = getattr(settings, task).model_dump()
        try:
            update[task] = ModelSettings.model_validate({**current, **fields})
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise InputError(f"{first['msg']}", where=f"--llm {task}.{field}") from None
    return settings.model_copy(update=update) if update else settings


_FLAGS: dict[str, Any] = {}
"""The model flags of this invocation (set by the ``memlane`` callback, before the command)."""


def set_model_flags(flags: dict[str, Any]) -> None:
    """Remember the flags given before the command (``memlane --model X chat ...``)."""
    _FLAGS.clear()
    _FLAGS.update({k: v for k, v in flags.items() if v})


def load_settings(store: str | None = None, *, llm: bool = True) -> Settings:
    """Read settings once, at the edge; ``--store`` overrides ``MEMLANE_STORE``, and the
    model flags before the command (``--model``, ``--api-base``, ``--llm``) override theirs.
    ``llm=False``: the command calls no chat model, so LiteLLM is not loaded for it (see
    :func:`~memlane.app.process.configure_process`)."""
    configure_process(llm=llm)
    try:
        settings = read_settings()
    except InputError as exc:
        fail(exc)
    if store:
        settings = settings.model_copy(update={"store": store})
    flags = dict(_FLAGS)
    if flags:
        try:
            settings = model_overrides(
                settings,
                model=flags.get("model"),
                api_base=flags.get("api_base"),
                api_key=flags.get("api_key"),
                llm=list(flags.get("llm") or ()),
            )
        except InputError as exc:
            fail(exc)
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
    store: str | None,
    as_json: bool,
    action: Callable[[Memory], Awaitable[BaseModel]],
    *,
    llm: bool = True,
) -> None:
    """Run a tools-layer call on the store and print its result: tables, or with ``--json``
    the result model (the same document the HTTP API returns for the operation). ``llm``: as
    :func:`load_settings`'s."""
    settings = load_settings(store, llm=llm)

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
