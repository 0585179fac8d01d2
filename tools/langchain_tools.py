"""The memory tools as LangChain tools that any LangGraph agent can bind.

``memory_tools(memory, user_id)`` binds the user when the tools are built: the model chooses
arguments, never whose memory it reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel

from memlane.memory_graph.errors import MemlaneError
from memlane.memory_graph.ids import check_id
from memlane.tools.specs import TOOL_SPECS, ToolSpec

if TYPE_CHECKING:
    from memlane.memory_graph.memory import Memory

__all__ = ["memory_tools"]


def _tool(spec: ToolSpec, memory: Memory, user_id: str) -> BaseTool:
    async def call(**kwargs: Any) -> tuple[str, BaseModel]:
        try:
            result = await spec.run(memory, user_id, spec.args(**kwargs))
        except MemlaneError as exc:
            # The model sees the problem and can fix its call; the graph keeps running.
            raise ToolException(f"{exc.code}: {exc}") from exc
        return result.model_dump_json(exclude_none=True), result

    return StructuredTool.from_function(
        coroutine=call,
        name=spec.name,
        description=spec.description,
        args_schema=spec.args,
        response_format="content_and_artifact",
        handle_tool_error=True,
        handle_validation_error=True,
    )


def memory_tools(memory: Memory, user_id: str, *, read_only: bool = False) -> list[BaseTool]:
    """LangChain tools over ``memory`` for one user.

    Args:
        memory: the memory the tools read and change.
        user_id: the user every call is scoped to (not a tool argument).
        read_only: only the query tools (profile, search, facts, history, why, diff).

    Returns:
        Tools with pydantic argument schemas; each returns compact JSON as its content and the
        typed result as its artifact. Errors come back to the model as tool error messages.
    """
    check_id(user_id, "user_id")
    return [_tool(s, memory, user_id) for s in TOOL_SPECS if s.read_only or not read_only]
