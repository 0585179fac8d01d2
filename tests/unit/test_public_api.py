"""The public surface: ``from memlane import ...`` names every entry point, loaded lazily."""

from __future__ import annotations

import subprocess
import sys

import memlane


def test_every_public_name_resolves() -> None:
    for name in memlane.__all__:
        assert getattr(memlane, name) is not None, name
    assert set(dir(memlane)) == set(memlane.__all__)


def test_import_memlane_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, memlane; "
        "heavy = [m for m in ('torch', 'litellm', 'langgraph', 'sentence_transformers', "
        "'fastapi', 'numpy') if m in sys.modules]; "
        "print(heavy); assert not heavy"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        memlane.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
