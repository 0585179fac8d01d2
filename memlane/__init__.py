"""memlane: a temporal knowledge-graph memory layer for chat agents.

The public surface, loaded lazily so that ``import memlane`` stays cheap (no torch, LiteLLM or
LangGraph until a name that needs them is used)::

    from memlane import MemoryAgent, Settings

    async with MemoryAgent(settings=Settings()) as agent:
        result = await agent.achat("ana", "I moved to Berlin last month")

Below the agent, :class:`Memory` is the memory API without any LLM, over a store from
:func:`open_store`. The subpackages, each a layer (docs/design.md): ``memlane.memory_graph``
(model, temporal rules, stores, retrieval), ``memlane.prompts``, ``memlane.llm`` (the LLM
gateway and the offline model), ``memlane.tools`` (memory queries and commands),
``memlane.agent`` (the LangGraph loop), ``memlane.evals`` and ``memlane.app`` (CLI, HTTP, MCP).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "MemoryAgent": "memlane.agent.api",
    "ChatResult": "memlane.agent.api",
    "IngestResult": "memlane.agent.api",
    "Settings": "memlane.agent.settings",
    "Memory": "memlane.memory_graph.memory",
    "open_store": "memlane.memory_graph.stores",
    "make_embedder": "memlane.memory_graph.embedding.models",
    "GraphStore": "memlane.memory_graph.stores.base",
    "FactDraft": "memlane.memory_graph.drafts",
    "Episode": "memlane.memory_graph.model",
    "Fact": "memlane.memory_graph.model",
    "Entity": "memlane.memory_graph.model",
    "MemoryContext": "memlane.memory_graph.retrieval.retriever",
    "MemlaneError": "memlane.memory_graph.errors",
    "InputError": "memlane.memory_graph.errors",
    "NotFoundError": "memlane.memory_graph.errors",
    "StoreError": "memlane.memory_graph.errors",
    "LLMError": "memlane.memory_graph.errors",
    "ExtractionError": "memlane.memory_graph.errors",
}

__all__ = [
    "ChatResult",
    "Entity",
    "Episode",
    "ExtractionError",
    "Fact",
    "FactDraft",
    "GraphStore",
    "IngestResult",
    "InputError",
    "LLMError",
    "MemlaneError",
    "Memory",
    "MemoryAgent",
    "MemoryContext",
    "NotFoundError",
    "Settings",
    "StoreError",
    "__version__",
    "make_embedder",
    "open_store",
]

if TYPE_CHECKING:
    from memlane.agent.api import ChatResult, IngestResult, MemoryAgent
    from memlane.agent.settings import Settings
    from memlane.memory_graph.drafts import FactDraft
    from memlane.memory_graph.embedding.models import make_embedder
    from memlane.memory_graph.errors import (
        ExtractionError,
        InputError,
        LLMError,
        MemlaneError,
        NotFoundError,
        StoreError,
    )
    from memlane.memory_graph.memory import Memory
    from memlane.memory_graph.model import Entity, Episode, Fact
    from memlane.memory_graph.retrieval.retriever import MemoryContext
    from memlane.memory_graph.stores import open_store
    from memlane.memory_graph.stores.base import GraphStore


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'memlane' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
