"""The dialogues scorer reads polarity: a current "no longer" fact does not hold the old value.

"we broke up" stores ``partner Tom`` negative from that day and closes the positive period. The
scorer used to find the value "Tom" in that current negative fact and count the ended partner as
still current (a stale value kept in, a change not handled); likewise a current "likes running"
was taken for the ended "dislikes running".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app

pytestmark = pytest.mark.unit


def _fact(relation: str, value: str, to: str | None, source: int, ended_by: int | None) -> dict:
    return {"subject": "user", "relation": relation, "value": value, "from": None, "to": to,
            "source": source, "ended_by": ended_by}  # fmt: skip


DATA = {
    "users": [
        {
            "user": "t-ola",
            "name": "Ola",
            "messages": [
                {"at": "2024-01-05T10:00:00Z", "text": "my boyfriend Tom is cooking tonight"},
                {"at": "2024-03-01T18:00:00Z", "text": "we broke up. give me a sad playlist"},
            ],
            "facts": [_fact("partner", "Tom", "2024-03-01", 0, 1)],
            "questions": [
                {
                    "q": "who is Ola dating?",
                    "as_of": None,
                    "expect": [],
                    "not": [],
                    "type": "abstain",
                }
            ],
        }
    ]
}


def test_an_ended_partner_under_a_current_negative_fact_is_not_stale(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(DATA))
    result = CliRunner().invoke(
        app, ["eval", "dialogues", "--embedder", "hash", "--json", "--data", str(path)]
    )
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    assert totals["fact_recall"] == 1.0
    assert totals["stale_kept_out"] == 1.0  # 0.0 before: "split up with Tom" held Tom
