"""memlane's own programs tune threads through the environment at start-up, leaving what the
user set; Settings then hands the embedder its opt-in thread count."""

from __future__ import annotations

import os

import pytest

from memlane.agent.settings import Settings
from memlane.app.process import configure_process, thread_defaults

pytestmark = pytest.mark.unit


def test_thread_defaults_apply_only_where_the_user_set_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("MEMLANE_EMBED_THREADS", "2")
    configure_process()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["MEMLANE_EMBED_THREADS"] == "2"  # the user's choice stays
    assert Settings().embed_threads == 2
    assert int(thread_defaults()["MEMLANE_EMBED_THREADS"]) >= 1


def test_a_library_host_gets_no_thread_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEMLANE_EMBED_THREADS", raising=False)
    assert Settings().embed_threads is None
