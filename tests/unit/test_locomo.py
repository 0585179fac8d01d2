"""``memlane eval locomo`` on a tiny synthetic LoCoMo-format file, with the hash embedder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app
from memlane.evals.locomo import evidence_ids, load_locomo, parse_session_time
from memlane.memory_graph.errors import InputError

pytestmark = pytest.mark.unit


def sample(sample_id: str, pets: tuple[str, str]) -> dict:
    return {
        "sample_id": sample_id,
        "conversation": {
            "speaker_a": "Ana",
            "speaker_b": "Ben",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ana", "dia_id": "D1:1", "text": "Hi Ben! How was your week?"},
                {
                    "speaker": "Ben",
                    "dia_id": "D1:2",
                    "text": f"Great, I adopted a dog named {pets[0]}.",
                },
                {
                    "speaker": "Ana",
                    "dia_id": "D1:3",
                    "text": "Look at my garden!",
                    "blip_caption": "a photo of red tulips in a garden",
                },
                {"speaker": "Ben", "dia_id": "D1:4", "text": "Lovely flowers."},
            ],
            "session_2_date_time": "10:04 am on 19 June, 2023",
            "session_2": [
                {"speaker": "Ana", "dia_id": "D2:1", "text": "I started learning the violin."},
                {"speaker": "Ben", "dia_id": "D2:2", "text": f"My cat {pets[1]} hates music."},
                {"speaker": "Ana", "dia_id": "D2:3", "text": "I ran a marathon in Boston."},
            ],
        },
        "observation": {
            "session_1_observation": {
                "Ben": [[f"Ben adopted a dog named {pets[0]}.", "D1:2"]],
                "Ana": [["Ana grows red tulips in her garden.", "D1:3"]],
            },
            "session_2_observation": {
                "Ana": [
                    ["Ana is learning to play the violin.", "D2:1"],
                    ["Ana ran the Boston marathon.", "D2:3"],
                ],
            },
        },
        "qa": [
            {
                "question": "What is the name of Ben's dog?",
                "answer": pets[0],
                "evidence": ["D1:2"],
                "category": 4,
            },
            {
                "question": "What flowers grow in Ana's garden?",
                "answer": "tulips",
                "evidence": ["D1:3"],
                "category": 4,
            },
            {
                "question": "When did Ana start learning the violin?",
                "answer": "June 2023",
                "evidence": ["D2:1"],
                "category": 2,
            },
            {
                "question": "What instrument and sport does Ana do?",
                "answer": "violin, marathon",
                "evidence": ["D2:1; D2:3"],
                "category": 1,
            },
            {
                "question": "Adversarial",
                "adversarial_answer": "x",
                "evidence": ["D1:1"],
                "category": 5,
            },
        ],
    }


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "locomo.json"
    path.write_text(
        json.dumps([sample("conv-1", ("Rex", "Tom")), sample("conv-2", ("Max", "Kit"))])
    )
    return path


def test_parse_session_time() -> None:
    assert parse_session_time("1:56 pm on 8 May, 2023") == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    assert parse_session_time("12:09 am on 13 September, 2023").hour == 0
    with pytest.raises(InputError, match="LoCoMo session time"):
        parse_session_time("yesterday")


def test_evidence_ids_split_combined_entries() -> None:
    assert evidence_ids(["D8:6; D9:17", "D1:3", "D8:6"]) == ["D8:6", "D9:17", "D1:3"]


def test_load_builds_dated_ordered_episodes_and_notes(data_file: Path) -> None:
    conv = load_locomo(data_file)[0]
    assert conv.user_id == "locomo-conv-1"
    first, _, photo = conv.episodes[:3]
    assert first.id == "D1:1" and first.speaker == "Ana" and first.session_id == "session_1"
    assert first.occurred_at < conv.episodes[1].occurred_at  # order kept within a session
    assert photo.content == "Look at my garden! [shares a photo: a photo of red tulips in a garden]"
    assert [q.category for q in conv.questions] == [4, 4, 2, 1]  # category 5 left out
    assert conv.questions[3].evidence == ["D2:1", "D2:3"]
    note = conv.observations[0]
    assert (note.subject, note.predicate, note.episode_ids) == ("Ben", "note", ["D1:2"])
    assert note.valid_at == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def test_bad_files_name_the_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        load_locomo(bad)
    bad.write_text(json.dumps([{"conversation": {"session_1_date_time": "soon", "session_1": []}}]))
    with pytest.raises(InputError, match="session_1_date_time"):
        load_locomo(bad)


@pytest.mark.parametrize("mode", ["turns", "observations", "both"])
def test_cli_scores_evidence_recall(data_file: Path, tmp_path: Path, mode: str) -> None:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "locomo",
            "--data",
            str(data_file),
            "--mode",
            mode,
            "--k",
            "1,5",
            "--embedder",
            "hash",
            "--json",
            "--store",
            f"sqlite:///{tmp_path / 'e.db'}",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["n_questions"] == 8
    assert set(out["recall_at"]) == {"1", "5"}
    # Each conversation has 7 turns; at k=5 most evidence is found even by hashed words.
    assert out["recall_at"]["5"] >= 0.5
    assert set(out["per_category"]) == {"1", "2", "4"}
    assert out["latency_ms"]["p95"] >= out["latency_ms"]["p50"] > 0
    assert out["context_tokens"]["median"] > 0
    # Every note is its own fact (two of Ana's notes share a session and carry no value).
    expected_facts = 0 if mode == "turns" else 8
    assert out["ingested"]["facts"] == expected_facts


def test_cli_rejects_bad_k(data_file: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", "locomo", "--data", str(data_file), "--k", "0", "--embedder", "hash"]
    )
    assert result.exit_code == 2
    assert "--k" in result.output or "k:" in result.output
