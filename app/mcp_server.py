"""An MCP server (stdio) exposing the memory tools to desktop assistants: ``memlane mcp USER``.

The tools are the ones LangGraph agents bind (``memlane.tools.specs``): same names, descriptions and
argument schemas. The user is fixed when the server starts, so an assistant can only read and
change that user's memory. Logs go to stderr; stdout carries the protocol.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from memlane.memory_graph.errors import MemlaneError
from memlane.memory_graph.ids import check_user_id
from memlane.tools.specs import TOOL_SPECS, ToolSpec

if TYPE_CHECKING:
    from memlane.agent.settings import Settings
    from memlane.memory_graph.memory import Memory

__all__ = ["build_server", "run_stdio"]

log = logging.getLogger(__name__)

MemoryOpener = Callable[[], AbstractAsyncContextManager["Memory"]]


class _Holder:
    memory: Memory | None = None

    def get(self) -> Memory:
        if self.memory is None:
            raise ToolError("memory is not open")
        return self.memory


def _tool_function(spec: ToolSpec, holder: _Holder, user_id: str) -> Callable[..., Any]:
    """An async function whose signature is ``spec.args``' fields (what MCP publishes)."""

    async def call(**kwargs: Any) -> BaseModel:
        try:
            return await spec.run(holder.get(), user_id, spec.args(**kwargs))
        except MemlaneError as exc:
            raise ToolError(f"{exc.code}: {exc}") from exc

    params = []
    for name, field in spec.args.model_fields.items():
        described = Field(description=field.description)
        annotation: Any = Annotated[(field.annotation, *field.metadata, described)]  # type: ignore[name-defined]
        default = inspect.Parameter.empty if field.is_required() else field.default
        kind = inspect.Parameter.KEYWORD_ONLY
        params.append(inspect.Parameter(name, kind, default=default, annotation=annotation))
    signature = inspect.Signature(params, return_annotation=spec.result)
    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__name__ = spec.name
    call.__doc__ = spec.description
    return call


def build_server(open_memory: MemoryOpener, user_id: str) -> MCPServer[Any]:
    """An MCP server with the memory tools for ``user_id``.

    Args:
        open_memory: opens the memory when the server starts (and closes it at the end).
        user_id: the user every tool call is scoped to.
    """
    check_user_id(user_id)
    holder = _Holder()

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        async with open_memory() as memory:
            holder.memory = memory
            try:
                yield
            finally:
                holder.memory = None

    server: MCPServer[Any] = MCPServer(
        name="memlane",
        instructions=f"Memory of user {user_id!r}: what memlane knows about them, where it "
        "came from, and how it changed. Use memory_search or memory_profile before "
        "answering personal questions.",
        lifespan=lifespan,
        log_level="WARNING",
    )
    for spec in TOOL_SPECS:
        fn = _tool_function(spec, holder, user_id)
        server.add_tool(fn, name=spec.name, description=spec.description)
    return server


def run_stdio(settings: Settings, user_id: str) -> None:
    """Serve the memory tools of ``user_id`` over stdio until the client disconnects."""
    from memlane.agent.bootstrap import open_memory

    logging.basicConfig(level=logging.WARNING)  # stderr: stdout is the protocol
    build_server(lambda: open_memory(settings), user_id).run("stdio")
