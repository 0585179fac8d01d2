"""``memlane doctor`` checks a store and creates nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app

pytestmark = pytest.mark.unit


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("no/such/dir/x.db", "the directory"),
        ("missing.db", "the file does not exist"),
    ],
)
def test_doctor_on_a_missing_path_fails_and_creates_nothing(
    tmp_path: Path, where: str, problem: str
) -> None:
    before = _files(tmp_path)
    result = CliRunner().invoke(app, ["doctor", "--store", f"sqlite:///{tmp_path / where}"])
    assert result.exit_code == 1
    assert "ok: no problems found" not in result.output
    assert problem in result.stderr
    assert _files(tmp_path) == before


def test_doctor_on_a_store_reports_it_healthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEMLANE_EMBEDDER", "hash")
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["remember", "ana", "I keep bees", "--store", url]).exit_code == 0
    result = runner.invoke(app, ["doctor", "--store", url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True
