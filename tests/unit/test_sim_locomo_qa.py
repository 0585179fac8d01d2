"""LoCoMo QA offline: the offline model answers, a LiteLLM mock_response judges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.evals.locomo import load_locomo
from memlane.evals.locomo_qa import (
    JUDGE_TASK,
    gold_answers,
    judge_messages,
    run_locomo_qa,
    token_f1,
)
from memlane.llm.gateway import LLMGateway
from memlane.llm.offline.provider import register as register_offline
from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.stores import open_store

pytestmark = pytest.mark.unit

TINY = [
    {
        "sample_id": "tiny-1",
        "conversation": {
            "speaker_a": "Ana",
            "speaker_b": "Ben",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a cat called Miso today!"},
                {"speaker": "Ben", "dia_id": "D1:2", "text": "Lovely. I'm off to Lisbon soon."},
            ],
            "session_2_date_time": "10:00 am on 20 June, 2023",
            "session_2": [
                {"speaker": "Ben", "dia_id": "D2:1", "text": "Lisbon was great, loved the trams."},
                {"speaker": "Ana", "dia_id": "D2:2", "text": "Miso broke a vase yesterday."},
            ],
        },
        "observation": {
            "session_1_observation": {"Ana": [["Ana adopted a cat named Miso.", "D1:1"]]},
        },
        "qa": [
            {"question": "What is the name of Ana's cat?", "answer": "Miso",
             "evidence": ["D1:1"], "category": 4},
            {"question": "When did Ana adopt her cat?", "answer": "8 May 2023",
             "evidence": ["D1:1"], "category": 2},
            {"question": "Which city did Ben visit?", "answer": "Lisbon",
             "evidence": ["D1:2", "D2:1"], "category": 1},
            {"question": "What did Ben hate?", "adversarial_answer": "trams",
             "evidence": ["D2:1"], "category": 5},
        ],
    }
]  # fmt: skip


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_locomo.json"
    path.write_text(json.dumps(TINY))
    return path


def test_token_f1_and_gold_answers(tiny: Path) -> None:
    assert token_f1("Miso", "miso.") == 1.0
    assert token_f1("the cat Miso", "Miso") == pytest.approx(2 / 3)
    assert token_f1("no idea", "Miso") == 0.0
    answers = gold_answers(tiny)
    assert answers[("tiny-1", "Which city did Ben visit?")] == "Lisbon"
    text = judge_messages("Q?", "Lisbon", "He went to Lisbon")[1]["content"]
    assert "GOLD: Lisbon" in text and "ANSWER: He went to Lisbon" in text


async def test_offline_answers_and_mock_judge_score_each_category(
    tiny: Path, tmp_path: Path
) -> None:
    register_offline()
    answerer = LLMGateway("memlane/offline")
    verdict = json.dumps({"correct": True, "reason": "same fact"})
    judge = LLMGateway(
        "gpt-4o-mini", max_retries=0, call_options={JUDGE_TASK: {"mock_response": verdict}}
    )
    async with open_store(f"sqlite:///{tmp_path / 'qa.db'}") as store:
        result = await run_locomo_qa(
            load_locomo(tiny), gold_answers(tiny), store, make_embedder("hash"), answerer,
            judge=judge, progress=False,
        )  # fmt: skip
    out = result.to_dict()
    assert out["n_questions"] == 3  # category 5 is left out
    assert set(out["per_category"]) == {"1", "2", "4"}
    assert out["judge_accuracy"] == 1.0 and out["judge_errors"] == {"count": 0, "first": []}
    assert out["llm"]["locomo_answer"]["calls"] == 3
    assert out["llm"][JUDGE_TASK]["calls"] == 3
    assert all(ex["answer"].startswith("[memlane offline model]") for ex in out["examples"])


async def test_a_judge_returning_garbage_counts_as_wrong(tiny: Path, tmp_path: Path) -> None:
    answerer = LLMGateway("gpt-4o-mini", call_options={"*": {"mock_response": "Miso"}})
    judge = LLMGateway("gpt-4o-mini", call_options={JUDGE_TASK: {"mock_response": "yes!!"}})
    async with open_store(f"sqlite:///{tmp_path / 'qa.db'}") as store:
        result = await run_locomo_qa(
            load_locomo(tiny), gold_answers(tiny), store, make_embedder("hash"), answerer,
            judge=judge, progress=False, mode="turns",
        )  # fmt: skip
    out = result.to_dict()
    assert out["judge_errors"]["count"] == 3 and out["judge_accuracy"] == 0.0
    first = out["judge_errors"]["first"][0]
    assert first["code"] == "extraction_error" and first["sample"] == "tiny-1"
    assert first["question"] == "What is the name of Ana's cat?"
    assert out["per_category"]["4"]["f1"] == 1.0  # "Miso" is exactly the gold answer


def test_cli_locomo_qa_offline_without_judge(tiny: Path) -> None:
    from memlane.app.cli import app

    runner = CliRunner()
    result = runner.invoke(
        app,
        ["eval", "locomo-qa", "--data", str(tiny), "--model", "memlane/offline", "--no-judge",
         "--embedder", "hash", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["judge_model"] is None and data["n_questions"] == 3
    refused = runner.invoke(
        app, ["eval", "locomo-qa", "--data", str(tiny), "--model", "memlane/offline"]
    )
    assert refused.exit_code != 0 and "cannot judge" in refused.output


def test_cli_locomo_qa_exits_1_when_the_judge_fails(
    tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memlane.app.cli import app

    # A real judge without credentials fails locally on every question (no network).
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("MEMLANE_LLM_MAX_RETRIES", "0")
    args = ["eval", "locomo-qa", "--data", str(tiny), "--model", "memlane/offline",
            "--judge-model", "gpt-4o-mini", "--embedder", "hash", "--json"]  # fmt: skip
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1
    data = json.loads(refused.stdout)
    assert data["judge_errors"]["count"] == 3 and data["judge_errors"]["first"]
    assert "error: 3 of 3 answers could not be graded" in refused.stderr
    assert "--allow-judge-errors" in refused.stderr
    allowed = CliRunner().invoke(app, [*args, "--allow-judge-errors"])
    assert allowed.exit_code == 0 and "warning: 3 of 3 answers" in allowed.stderr
