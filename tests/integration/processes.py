"""The server processes a test starts: a free loopback port, and stopping them by PID
(cleanly, or as a crash)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from typing import Any

__all__ = ["free_port", "kill", "stop"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(proc: subprocess.Popen[Any] | None, timeout_s: float) -> None:
    """SIGTERM ``proc`` and wait for it (its clean shutdown); SIGKILL if it hangs."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def kill(proc: subprocess.Popen[Any] | None) -> None:
    """SIGKILL ``proc`` (a crash: no shutdown work at all) and reap it."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
