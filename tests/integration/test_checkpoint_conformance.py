"""LangGraph's own conformance suite for checkpointers, against memlane's one saver.

``langgraph-checkpoint-conformance`` runs the checkpoint storage contract (put, pending
writes, get, list with filters / before / limit, namespaces, delete) on a saver. Here: the
agent's :class:`StoreCheckpointSaver` over every backend (a SQLite file, a FalkorDB and a
Neo4j store), keeping every checkpoint (the suite reads back old ones; memlane's pruning is
tested in ``tests/contract/test_threads.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from langgraph.checkpoint.conformance import checkpointer_test, validate

from memlane.agent.threads import StoreCheckpointSaver
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.stores.threads import ThreadStore

pytestmark = pytest.mark.integration


async def _conformance(url: str) -> None:
    @checkpointer_test(name="StoreCheckpointSaver")
    async def saver() -> AsyncIterator[StoreCheckpointSaver]:
        # The suite makes a saver per case; one store serves them all (thread ids differ).
        store = open_store(url)
        await store.open()
        assert isinstance(store, ThreadStore)
        try:
            yield StoreCheckpointSaver(store, keep_checkpoints=1_000)
        finally:
            await store.close()

    report = await validate(saver)
    report.print_report()
    assert report.passed_all_base(), "see the report above"


async def test_the_graph_saver_passes_langgraphs_checkpointer_conformance(graph_url: str) -> None:
    await _conformance(graph_url)


async def test_the_sqlite_saver_passes_langgraphs_checkpointer_conformance(tmp_path: Path) -> None:
    await _conformance(f"sqlite:///{tmp_path / 'threads.db'}")
