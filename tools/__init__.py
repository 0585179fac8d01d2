"""Memory queries and commands: the one layer behind the LLM tools, CLI, HTTP API and MCP.

``memlane.tools.queries`` reads, ``memlane.tools.commands`` changes memory,
``memlane.tools.models`` holds the typed
results, ``memlane.tools.specs`` the LLM-facing tool definitions and
``memlane.tools.langchain_tools`` builds
LangChain tools from them (imported on first use: LangChain is not needed to query memory).
"""

from __future__ import annotations

from typing import Any

from memlane.tools import commands, queries
from memlane.tools.specs import TOOL_SPECS, ToolSpec

__all__ = ["TOOL_SPECS", "ToolSpec", "commands", "memory_tools", "queries"]


def __getattr__(name: str) -> Any:
    if name == "memory_tools":
        from memlane.tools.langchain_tools import memory_tools

        return memory_tools
    raise AttributeError(name)
