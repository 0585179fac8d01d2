"""A private Neo4j Community server for tests, from Maven Central's ``org.neo4j`` jars.

The jars are resolved once by Maven (``pom.xml`` beside this file) into a cache folder
outside the repository (``~/.cache/memlane/neo4j/<version>``, or ``$MEMLANE_NEO4J_CACHE``),
and ``Launcher.java`` is compiled against them there. The test process owns the server: an
embedded ``DatabaseManagementService`` with Bolt on a free loopback port, data in a
temporary folder (start it again on the same folder to recover after a crash), auth on, and
stopped by its PID, like :mod:`tests.integration.falkordb_server`.

``python -m tests.neo4j.server --fetch`` resolves and compiles (CI runs it before the suite);
``python -m tests.neo4j.server DIR`` runs a server on DIR and prints its store URL.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.integration import processes

__all__ = [
    "NEO4J_VERSION",
    "PASSWORD",
    "Neo4jServer",
    "ensure_neo4j",
    "neo4j_missing",
    "neo4j_required",
]

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
LAUNCHER = HERE / "Launcher.java"
_VERSION = re.search(r"<neo4j.version>([^<]+)</neo4j.version>", POM.read_text())
assert _VERSION is not None, f"no neo4j.version in {POM}"
NEO4J_VERSION = _VERSION.group(1)
PASSWORD = "memlane-test"  # Neo4j wants at least 8 characters
# The JVM's share of a 2-core, shared machine: Neo4j needs little for a test graph.
JAVA_OPTS = ("-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
RESOLVE_TIMEOUT_S = 900.0


def cache_dir() -> Path:
    """Where this version's jars and compiled launcher live."""
    root = os.environ.get("MEMLANE_NEO4J_CACHE") or Path.home() / ".cache" / "memlane" / "neo4j"
    return Path(root) / NEO4J_VERSION


def neo4j_required() -> bool:
    """True where a missing Neo4j is a failure, not a skip (CI sets this)."""
    return os.environ.get("MEMLANE_TEST_NEO4J_REQUIRED", "") not in ("", "0")


def neo4j_missing() -> str | None:
    """Why a Neo4j server cannot be started here (no Java, javac or Maven), or None."""
    missing = [tool for tool in ("java", "javac", "mvn") if shutil.which(tool) is None]
    if missing:
        return f"Neo4j tests need Java 17+ and Maven ({', '.join(missing)} not found)"
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One process at a time resolves or compiles into the shared cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _digest(*files: Path) -> str:
    return hashlib.sha1(b"".join(f.read_bytes() for f in files)).hexdigest()[:12]


def ensure_neo4j(timeout_s: float = RESOLVE_TIMEOUT_S) -> Path:
    """Resolve the jars (Maven) and compile the launcher, once per pom and launcher source.

    Returns:
        The Java class path of the launcher.

    Raises:
        RuntimeError: Maven or javac failed (the message names the log).
    """
    base = cache_dir()
    lib, classes = base / "lib", base / f"classes-{_digest(LAUNCHER)}"
    stamp = lib / f".resolved-{_digest(POM)}"
    with _locked(base / ".lock"):
        if not stamp.exists():
            shutil.rmtree(lib, ignore_errors=True)
            log = base / "maven.log"
            cmd = [
                "mvn", "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
                f"-DoutputDirectory={lib}", f"-Dmaven.repo.local={base.parent / 'm2'}",
            ]  # fmt: skip
            with open(log, "wb") as out:
                done = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout_s)
            if done.returncode != 0:
                tail = log.read_text(errors="replace")[-2000:]
                msg = f"Maven could not resolve Neo4j {NEO4J_VERSION} ({log}):\n{tail}"
                raise RuntimeError(msg)
            stamp.touch()
        if not (classes / "Launcher.class").exists():
            tmp = classes.with_suffix(".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            cmd = ["javac", "-cp", f"{lib}/*", "-d", str(tmp), str(LAUNCHER)]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"javac failed on {LAUNCHER}:\n{done.stderr[-2000:]}")
            tmp.rename(classes)
    return f"{lib}/*{os.pathsep}{classes}"


class Neo4jServer:
    """One embedded Neo4j Community server (a JVM) on 127.0.0.1.

    Args:
        home: where the databases and transaction logs live (reuse it to restart on the
            same data).
        port: a fixed Bolt port (a restart may keep the old one); a free one by default.
    """

    def __init__(self, home: Path, port: int = 0) -> None:
        self.home = Path(home)
        self.port = port
        self.version = ""
        self.proc: subprocess.Popen[str] | None = None

    @property
    def uri(self) -> str:
        """The Bolt URI without credentials (for the driver and ``MEMLANE_TEST_NEO4J_URI``)."""
        return f"bolt://127.0.0.1:{self.port}"

    def url(self) -> str:
        """A memlane store URL for the server's default database, with the credentials."""
        return f"bolt://neo4j:{PASSWORD}@127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 300.0) -> Neo4jServer:
        """Start the JVM and wait until the launcher says the database answers."""
        classpath = ensure_neo4j()
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home / "launcher.log", "a")  # noqa: SIM115 - owned by the process
        cmd = ["java", *JAVA_OPTS, "-cp", classpath, "Launcher", str(self.home),
               str(self.port), PASSWORD]  # fmt: skip
        # stdin stays open for the JVM's life: the launcher exits when it ends (our death).
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, cwd=self.home
        )
        log.close()
        # The launcher prints one line, READY <port> <version>, or exits on failure.
        lines: queue.Queue[str] = queue.Queue()
        out = self.proc.stdout
        assert out is not None
        threading.Thread(target=lambda: lines.put(out.readline()), daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(queue.Empty):
                words = lines.get(timeout=0.2).split()
                if words[:1] == ["READY"]:
                    self.port, self.version = int(words[1]), words[2]
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"Neo4j exited with {self.proc.returncode}; see {self.home}/launcher.log "
                    f"and {self.home}/logs/debug.log"
                )
        self.kill()
        raise RuntimeError(f"Neo4j did not start in {timeout_s}s; see {self.home}/logs/debug.log")

    def stop(self, timeout_s: float = 60.0) -> None:
        """SIGTERM the JVM by PID (a clean shutdown: a checkpoint) and wait for it."""
        proc, self.proc = self.proc, None
        processes.stop(proc, timeout_s)

    def kill(self) -> None:
        """SIGKILL the JVM by PID (a crash: recovery from the transaction log on restart)."""
        proc, self.proc = self.proc, None
        processes.kill(proc)

    def __enter__(self) -> Neo4jServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    if argv == ["--fetch"]:
        if reason := neo4j_missing():
            print(reason, file=sys.stderr)
            return 0 if not neo4j_required() else 1
        started = time.monotonic()
        print(f"Neo4j {NEO4J_VERSION}: {ensure_neo4j()} ({time.monotonic() - started:.0f}s)")
        return 0
    if len(argv) != 1:
        print("usage: python -m tests.neo4j.server (--fetch | DATA_DIR)", file=sys.stderr)
        return 2
    server = Neo4jServer(Path(argv[0])).start()
    stop = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # after the JVM started: it inherits masks
    print(f"Neo4j {server.version}: {server.url()}", flush=True)
    try:
        signal.sigwait(stop)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
