"""The `make run` demo leaves the right memory: current values, closed history, old story."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlane.agent.settings import Settings
from memlane.app.demo import run_demo

pytestmark = pytest.mark.unit


async def test_demo_final_profile(tmp_path: Path) -> None:
    lines: list[str] = []
    settings = Settings(embedder="hash", model="memlane/offline",
                        checkpoint_db=str(tmp_path / "threads.db"))  # fmt: skip
    result = await run_demo(settings, out=lines.append, store=f"sqlite:///{tmp_path / 'd.db'}")
    assert all(turn.write_status == "committed" for turn in result.turns)
    assert result.current("lives_in") == ["Berlin"]  # the old Lisbon story did not move her back
    assert result.current("works_at") == ["Stripe"]
    assert result.current("job_title") == ["product manager"]
    assert "ramen" in result.current("likes") and "sushi" not in result.current("likes")
    # "I left Acme" and "I don't like sushi anymore" record changes: listed apart, not as now.
    assert all(r.polarity == "positive" for r in result.profile)
    assert {(r.predicate, r.value) for r in result.no_longer} == {
        ("works_at", "Acme Corp"),
        ("likes", "sushi"),
    }

    def window(predicate: str, value: str) -> list[tuple[str | None, str | None]]:
        return [
            ((r.valid_at or "")[:10], (r.invalid_at or "")[:10] or None)
            for r in result.histories[predicate]
            if r.value == value and r.polarity == "positive"
        ]

    assert window("lives_in", "Lisbon") == [("2023-01-10", "2023-08-01")]  # "last month"
    assert window("lives_in", "Berlin") == [("2023-08-01", None)]
    assert window("works_at", "Acme Corp") == [("2023-01-10", "2024-01-01")]
    assert window("job_title", "data analyst") == [("2023-01-10", "2024-01-01")]
    assert window("likes", "sushi") == [("2023-01-10", "2024-06-01")]
    transcript = "\n".join(lines)
    assert all(t.reply.startswith("[memlane offline model]") for t in result.turns)
    assert "[memlane offline model]" in lines[1]  # the demo says which model it is
    assert "history of what changed" in transcript
    assert "NOT" not in transcript.split("no longer:")[0].split("what memory holds now")[1]
