"""Durability on Neo4j: SIGKILL the JVM while a process is ingesting turns; after a restart
on the same data directory every acknowledged turn is there and no turn is half-written
(Neo4j recovers committed transactions from its transaction log)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.durability import kill_mid_ingest
from tests.neo4j.fixtures import skip_without_neo4j
from tests.neo4j.server import Neo4jServer

pytestmark = pytest.mark.integration


def test_acknowledged_turns_survive_a_jvm_kill(tmp_path: Path) -> None:
    skip_without_neo4j()
    server = Neo4jServer(tmp_path / "neo4j").start()
    restarted: list[Neo4jServer] = []

    def restart() -> str:
        again = Neo4jServer(tmp_path / "neo4j").start()  # recovery runs before READY
        restarted.append(again)
        return again.url()

    try:
        kill_mid_ingest(server.url(), server.kill, restart)
        # The kill really left work for recovery: committed transactions were replayed.
        log = (tmp_path / "neo4j" / "logs" / "debug.log").read_text(errors="replace")
        assert re.search(r"\[neo4j/\w+\] Checkpoint triggered by \"Recovery completed", log)
    finally:
        server.kill()
        for again in restarted:
            again.stop()
