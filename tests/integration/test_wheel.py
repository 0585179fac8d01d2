"""The wheel installs one import root, ``memlane``, and lives beside a product's own packages.

Builds the wheel from this checkout (no build isolation: no network), installs it with
``--no-deps`` into a fresh virtualenv whose dependencies come from the test environment's
site-packages (a ``.pth`` line, so nothing is downloaded), and runs a scratch product that has
its own ``agent`` and ``tools`` packages: both the product's packages and ``from memlane
import MemoryAgent, Memory`` import and work (an offline chat turn and a recall).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

PRODUCT = """
import asyncio, sys, tempfile
from pathlib import Path

import agent, tools                       # the product's own packages
from agent.core import answer
from tools import helper
from memlane import Memory, MemoryAgent, Settings

assert answer() == 42 and helper() == "product tool", (answer(), helper())
assert Path(agent.__file__).parent.parent == Path(__file__).parent, agent.__file__
import memlane
assert "site-packages" in memlane.__file__, memlane.__file__


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(store=f"sqlite:///{tmp}/m.db", embedder="hash")
        async with MemoryAgent(settings=settings) as bot:
            result = await bot.achat("ana", "I live in Lisbon.", session_id="s1")
            assert result.write_status == "committed", result
            memory = await bot.memory()
            assert isinstance(memory, Memory)
            context = await bot.recall("ana", "where do I live?")
            assert "Lisbon" in context.text, context.text
            print("reply:", result.reply.splitlines()[0])
            print("recall:", [line for line in context.text.splitlines() if "Lisbon" in line][0])


asyncio.run(main())
print("product ok")
"""


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def test_wheel_installs_one_root_beside_a_products_agent_and_tools(tmp_path: Path) -> None:
    # Build from a copy: a build inside the checkout leaves build/lib behind, and setuptools
    # would ship a stale module from there into the next wheel.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__"),
    )
    dist = tmp_path / "dist"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(source),
        ],
        cwd=tmp_path,
    )
    (wheel,) = dist.glob("memlane-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"memlane"}, tops
    assert "memlane/py.typed" in names
    assert "memlane/app/inspector/static/inspect.js" in names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    # The dependencies (torch, litellm, ...) from this test environment, not the network.
    (Path(site.stdout.strip()) / "memlane-test-deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )

    product = tmp_path / "product"
    (product / "agent").mkdir(parents=True)
    (product / "tools").mkdir()
    (product / "agent" / "__init__.py").write_text("")
    (product / "agent" / "core.py").write_text("def answer():\n    return 42\n")
    (product / "tools" / "__init__.py").write_text("def helper():\n    return 'product tool'\n")
    (product / "main.py").write_text(textwrap.dedent(PRODUCT))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMLANE_")}
    env.pop("PYTHONPATH", None)
    proc = _run([str(py), "main.py"], cwd=product, env=env)
    print(proc.stdout)
    assert "product ok" in proc.stdout
    assert "offline model" in proc.stdout

    cli = _run([str(env_dir / "bin" / "memlane"), "--help"], cwd=product, env=env)
    assert "memlane" in cli.stdout
