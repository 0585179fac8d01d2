"""Memory queries and commands: the one layer behind the LLM tools, CLI, HTTP API and MCP.

``tools.queries`` reads, ``tools.commands`` changes memory, ``tools.models`` holds the typed
results, ``tools.specs`` the LLM-facing tool definitions and ``tools.langchain_tools`` builds
LangChain tools from them (imported on first use: LangChain is not needed to query memory).
"""

from __future__ import annotations

from typing import Any

from tools import commands, queries
from tools.specs import TOOL_SPECS, ToolSpec

__all__ = ["TOOL_SPECS", "ToolSpec", "commands", "memory_tools", "queries"]


def __getattr__(name: str) -> Any:
    if name == "memory_tools":
        from tools.langchain_tools import memory_tools

        return memory_tools
    raise AttributeError(name)
