"""Simulation runs end to end: --gold scores 1.0, the offline agent completes, reports land."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.evals.report import aggregate, write_report
from memlane.evals.sim.probes import PROBE_TYPES
from memlane.evals.sim.runner import SimConfig, SimResult, consistency_problems, run_simulation
from memlane.memory_graph.model import SELF_ID, Fact
from memlane.memory_graph.predicates import default_registry

pytestmark = pytest.mark.unit

HEADLINE = ("current", "as_of", "history", "preference", "multi_hop", "abstain")


@pytest.fixture(scope="module")
def gold_run() -> SimResult:
    config = SimConfig(sessions=20, seed=1, gold=True, embedder="hash", checkpoint_every=10)
    return asyncio.run(run_simulation(config, progress=False))


def test_gold_run_answers_every_probe(gold_run: SimResult) -> None:
    # The simulator's own facts, committed directly: anything but 1.0 is a memory bug.
    assert gold_run.writer == "gold"
    assert gold_run.consistency_violations == 0
    assert gold_run.preference_conflicts == 0
    asked = {t for t, n in gold_run.probes.items() if n}
    assert {"current", "as_of", "multi_hop", "abstain"} <= asked
    for t in PROBE_TYPES:
        assert gold_run.accuracy[t] in (None, 1.0), (t, gold_run.failures)
    assert gold_run.llm_calls_per_turn == 0.0
    assert gold_run.context_tokens["mean"] > 0
    assert [row["sessions"] for row in gold_run.accuracy_by_checkpoint] == [10, 20]


async def test_offline_agent_run_completes(tmp_path: Path) -> None:
    config = SimConfig(sessions=8, seed=2, embedder="hash", checkpoint_every=4, recall=False)
    result = await run_simulation(config, progress=False)
    assert result.writer == "agent"
    assert result.write_errors.count == 0
    assert result.turns > 8
    # Memory writing is one extraction call per turn, plus the reply.
    assert result.llm_calls_per_turn == 2.0
    assert set(result.llm_calls) == {"extract_memory", "respond"}
    assert result.extraction is not None and result.extraction["by_kind"]
    assert set(result.accuracy) == set(PROBE_TYPES)
    paths = write_report([result], tmp_path / "report")
    for name in ("accuracy", "context_tokens", "latency"):
        assert paths[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(paths["json"].read_text())
    assert data["summary"]["writer"] == "agent"
    pooled = aggregate([result, result])["extraction"]
    assert pooled["drafts"] == 2 * result.extraction["drafts"] > 0
    assert pooled["recall"] == result.extraction["recall"]
    assert "## Accuracy by probe type" in paths["markdown"].read_text()


async def test_turns_that_fail_to_write_are_counted_not_scored(tmp_path: Path) -> None:
    from memlane.evals.sim.agent import AgentWriter
    from memlane.llm.gateway import LLMGateway

    # The extractor answers garbage: every turn's write fails (nothing is written).
    options = {"respond": {"mock_response": "Noted."},
               "extract_memory": {"mock_response": "not json"}}  # fmt: skip
    config = SimConfig(sessions=2, seed=3, embedder="hash", checkpoint_every=2, recall=False)

    def writer(memory, timeline, clock):  # type: ignore[no-untyped-def]
        gateway = LLMGateway("gpt-4o-mini", max_retries=0, call_options=options)
        return AgentWriter(memory, timeline, config, gateway=gateway)

    result = await run_simulation(config, progress=False, writer_factory=writer)
    assert result.turns > 2
    assert result.write_errors.count == result.turns
    assert len(result.write_errors.first) == min(5, result.turns)
    assert {e["code"] for e in result.write_errors.first} == {"extraction_error"}
    assert result.write_errors.first[0]["session"] == "1"
    summary = result.summary()
    keys = list(summary)
    assert keys.index("write_errors") == keys.index("turns") + 1  # before any score
    assert summary["write_errors"]["count"] == result.turns

    paths = write_report([result, result], tmp_path)
    pooled = json.loads(paths["json"].read_text())["summary"]["write_errors"]
    assert pooled["count"] == 2 * result.turns and pooled["first"][0]["seed"] == "3"
    markdown = paths["markdown"].read_text()
    head = markdown.split("## Accuracy by probe type")[0]
    assert f"{2 * result.turns} of {2 * result.turns} user turns were not written" in head
    assert "[extraction_error]" in head


def _refusing_store(path: Path) -> str:
    """A real SQLite store whose episodes table refuses every insert (a broken store)."""
    import sqlite3

    from memlane.memory_graph.stores import open_store

    url = f"sqlite:///{path}"

    async def create() -> None:
        async with open_store(url):
            pass

    asyncio.run(create())
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON episodes "
        "BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    db.commit()
    db.close()
    return url


def test_cli_exits_1_when_turns_were_not_written(tmp_path: Path) -> None:
    from memlane.app.cli import app

    url = _refusing_store(tmp_path / "broken.db")
    args = ["eval", "sim", "--sessions", "2", "--seed", "0", "--store", url, "--json",
            "--embedder", "hash", "--every", "2", "--no-recall", "--no-progress"]  # fmt: skip
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 1
    data = json.loads(refused.stdout)
    assert data["write_errors"]["count"] == data["turns"] > 0
    assert data["write_errors"]["first"][0]["code"] == "store_error"
    count = data["turns"]
    assert f"error: {count} of {count} user turns were not written" in refused.stderr
    assert "disk says no" in refused.stderr and "--allow-write-errors" in refused.stderr

    allowed = CliRunner().invoke(app, [*args, "--allow-write-errors"])
    assert allowed.exit_code == 0, allowed.output
    assert "warning: " in allowed.stderr and "user turns were not written" in allowed.stderr


def test_report_pools_several_runs(gold_run: SimResult, tmp_path: Path) -> None:
    paths = write_report([gold_run, gold_run], tmp_path)
    summary = json.loads(paths["json"].read_text())["summary"]
    assert summary["probes"]["current"] == 2 * gold_run.probes["current"]
    assert summary["accuracy"]["current"] == 1.0
    assert summary["extraction"] is None  # gold runs extract nothing
    assert len(summary["runs"]) == 2
    assert "![accuracy](accuracy.png)" in paths["markdown"].read_text()


def test_consistency_check_counts_two_current_values() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)

    def fact(fid: str, predicate: str, value: str, **kw: object) -> Fact:
        return Fact(
            id=fid, user_id="u", subject_id=SELF_ID, predicate=predicate, value=value,
            statement=value, recorded_at=now, valid_at=now, **kw,  # type: ignore[arg-type]
        )  # fmt: skip

    facts = [
        fact("f1", "lives_in", "Oslo"),
        fact("f2", "lives_in", "Rome"),
        fact("f3", "lives_in", "Paris", invalid_at=now + timedelta(days=1), expired_at=now),
        fact("f4", "hobby", "chess"),
        fact("f5", "hobby", "yoga"),
        fact("f6", "likes", "sushi"),
        fact("f7", "dislikes", "sushi"),
        fact("f8", "works_at", "Acme"),
        fact("f9", "works_at", "Initech", polarity="negative"),
    ]
    problems, conflicts = consistency_problems(facts, default_registry())
    assert problems == [
        {"subject_id": SELF_ID, "predicate": "lives_in", "values": ["oslo", "rome"]}
    ]
    assert conflicts == 1


def test_cli_json_is_one_object_with_the_agreed_keys() -> None:
    from memlane.app.cli import app

    result = CliRunner().invoke(
        app,
        ["eval", "sim", "--sessions", "6", "--seed", "4", "--gold", "--json",
         "--embedder", "hash", "--every", "3", "--no-progress"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(HEADLINE) <= set(data["accuracy"])
    for key in ("consistency_violations", "context_tokens", "llm_calls_per_turn", "latency_ms"):
        assert key in data
    assert data["config"]["gold"] is True and data["sessions"] == 6


def test_judge_and_llm_user_go_through_the_gateway() -> None:
    from memlane.llm.gateway import LLMGateway
    from memlane.memory_graph.errors import ExtractionError

    verdict = json.dumps({"correct": True, "reason": "same"})
    options = {"sim_answer": {"mock_response": "You live in Oslo."},
               "sim_judge": {"mock_response": verdict}}  # fmt: skip
    config = SimConfig(sessions=3, seed=5, gold=True, embedder="hash", judge=True, model="gpt-4o")
    result = asyncio.run(
        run_simulation(config, progress=False, sim_llm=LLMGateway("gpt-4o", call_options=options))
    )
    assert result.judge_accuracy is not None
    assert {v for v in result.judge_accuracy.values() if v is not None} == {1.0}
    assert result.simulator_llm_calls["sim_judge"]["calls"] == sum(result.probes.values())

    # A rewrite that loses messages is an error, never used.
    one = json.dumps({"messages": ["hi"]})
    rewrite = LLMGateway("gpt-4o", call_options={"sim_user": {"mock_response": one}})
    config = SimConfig(sessions=1, seed=5, gold=True, embedder="hash", llm_user=True)
    with pytest.raises(ExtractionError, match="returned 1 messages for 3"):
        asyncio.run(run_simulation(config, progress=False, sim_llm=rewrite))


def test_extraction_tally_matches_by_meaning() -> None:
    from memlane.evals.sim.extraction import ExtractionTally
    from memlane.evals.sim.timeline import Told, Turn
    from memlane.memory_graph.drafts import FactDraft

    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    drafts = (
        FactDraft(predicate="lives_in", object="Oslo", object_kind="place",
                  statement="s", valid_at=now),
        FactDraft(predicate="likes", object="sushi", polarity="negative", statement="s",
                  valid_at=now),
        FactDraft(predicate="hobby", object="chess", statement="s", valid_at=now),
    )  # fmt: skip
    turn = Turn(now, (Told("move", {}, drafts[:1]), Told("unlike", {}, drafts[1:2]),
                      Told("hobby", {}, drafts[2:])))  # fmt: skip

    def fact(fid: str, predicate: str, **kw: object) -> Fact:
        return Fact(id=fid, user_id="u", subject_id=SELF_ID, predicate=predicate, statement="s",
                    recorded_at=now, valid_at=now, **kw)  # type: ignore[arg-type]  # fmt: skip

    written = [
        fact("f1", "lives_in", object_id="e_oslo"),
        fact("f2", "dislikes", value="Sushi"),  # "dislikes X" is "likes X" negated
        fact("f3", "hobby", value="playing chess"),  # not the same value
    ]
    tally = ExtractionTally()
    text = "I moved to Oslo. Sushi, no more. Chess!"
    tally.add(turn, text, written, {"e_oslo": "Oslo"}, session=0)
    out = tally.summary()
    assert out["by_kind"]["move"]["recall"] == 1.0
    assert out["by_kind"]["move"]["dated_right"] == 1.0
    assert out["by_kind"]["unlike"]["recall"] == 1.0
    assert out["by_kind"]["hobby"]["recall"] == 0.0
    assert out["by_kind"]["hobby"]["missed_examples"] == [text]
    assert out["recall"] == round(2 / 3, 3) and out["precision"] == round(2 / 3, 3)
