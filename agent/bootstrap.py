"""Build memlane's parts from :class:`~memlane.agent.settings.Settings`, in one place.

Every entry point (``MemoryAgent``, the CLI, the HTTP and MCP servers, the evaluations) gets
its store, embedder, predicate registry and :class:`~memlane.memory_graph.memory.Memory`
from here, so a setting means the same thing everywhere. It lives in the agent layer, not the
application layer, because ``MemoryAgent(settings=...)`` is the public one-line way in; the
application layer and ``evals`` sit above it and call it.

Nothing here changes the host process (no environment, thread or LiteLLM globals): that is
:func:`memlane.app.process.configure_process`'s job, called by memlane's own programs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memlane.agent.settings import Settings
    from memlane.memory_graph.embedding.port import Embedder
    from memlane.memory_graph.memory import Memory
    from memlane.memory_graph.predicates import PredicateRegistry
    from memlane.memory_graph.stores.base import GraphStore

__all__ = ["build_memory", "make_embedder_for", "make_registry", "open_memory"]


def make_registry(settings: Settings) -> PredicateRegistry:
    """The default predicates extended with those in settings (``MEMLANE_*_PREDICATES``,
    ``MEMLANE_PREDICATE_SYNONYMS``, ``MEMLANE_PREDICATE_ANTONYMS``)."""
    from memlane.memory_graph.predicates import default_registry

    return default_registry().extend(
        functional=settings.functional_predicates,
        multi_valued=settings.multi_valued_predicates,
        synonyms=settings.predicate_synonyms,
        antonyms=settings.predicate_antonyms,
    )


def make_embedder_for(settings: Settings, name: str | None = None) -> Embedder:
    """The embedder the settings name (or ``name``), at the settings' precision and with
    their thread tuning (``embed_threads``; unset leaves torch's threads alone)."""
    from memlane.memory_graph.embedding.models import make_embedder

    return make_embedder(
        name or settings.embedder, settings.embed_precision, settings.embed_threads
    )


def build_memory(
    settings: Settings,
    *,
    store: GraphStore | None = None,
    embedder: Embedder | None = None,
    **memory_kwargs: Any,
) -> Memory:
    """A :class:`Memory` over the store, embedder, registry and retrieval preset the settings
    name. The store is not opened (``async with memory.store`` or :func:`open_memory`).

    Args:
        settings: where everything comes from.
        store: use this store instead of opening ``settings.store``.
        embedder: use this embedder instead of ``settings.embedder``.
        **memory_kwargs: passed to :class:`Memory` (e.g. ``clock``).
    """
    from memlane.memory_graph.memory import Memory
    from memlane.memory_graph.stores import open_store

    return Memory(
        store if store is not None else open_store(settings.store),
        embedder if embedder is not None else make_embedder_for(settings),
        registry=make_registry(settings),
        retrieval=settings.retrieval_preset,
        **memory_kwargs,
    )


@asynccontextmanager
async def open_memory(settings: Settings, **kwargs: Any) -> AsyncIterator[Memory]:
    """:func:`build_memory`, with its store opened for the block and closed after it."""
    memory = build_memory(settings, **kwargs)
    async with memory.store:
        yield memory
