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


def _report(tmp_path: Path, data: dict, *flags: str) -> dict:
    """``memlane eval dialogues --json`` of ``data`` (the offline model unless ``--gold``)."""
    path = tmp_path / "d.json"
    path.write_text(json.dumps(data))
    result = CliRunner().invoke(
        app, ["eval", "dialogues", "--embedder", "hash", "--json", *flags, "--data", str(path)]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_an_ended_partner_under_a_current_negative_fact_is_not_stale(tmp_path: Path) -> None:
    totals = _report(tmp_path, DATA)["totals"]
    assert totals["fact_recall"] == 1.0
    assert totals["stale_kept_out"] == 1.0  # 0.0 before: "split up with Tom" held Tom


def test_a_true_fact_about_the_ex_is_no_claim_that_he_is_the_partner(tmp_path: Path) -> None:
    """``not: ["Dan"]`` guards the partner slot; "Dan lives in Leeds" (current, true) names
    Dan as its subject, not as the value, and must not fail the question."""
    user = {
        "user": "t-ada",
        "name": "Ada",
        "messages": [
            {"at": "2024-01-05T10:00:00Z", "text": "my boyfriend Dan lives in Leeds"},
            {"at": "2024-03-01T18:00:00Z", "text": "Dan and I broke up, I'm seeing Sam now"},
        ],
        "facts": [
            _fact("partner", "Dan", "2024-03-01", 0, 1),
            {**_fact("lives in", "Leeds", None, 0, None), "subject": "Dan"},
            {**_fact("partner", "Sam", None, 1, None), "from": "2024-03-01"},
        ],
        "questions": [
            {
                "q": "who is Ada dating now, Dan?",
                "as_of": None,
                "expect": ["Sam"],
                "not": ["Dan"],
                "type": "current",
            }
        ],
    }
    report = _report(tmp_path, {"users": [user]}, "--gold")
    assert report["totals"]["questions_answered"] == 1.0, report["misses"]


def test_the_users_own_name_is_a_true_fact(tmp_path: Path) -> None:
    """The file's ``name`` is the user's gold name, which its facts never repeat: "Hi, I'm
    Ola" stored as the user's name is true, not a false fact against precision."""
    user = {
        "user": "t-ola",
        "name": "Ola",
        "messages": [
            {"at": "2024-01-05T10:00:00Z", "text": "Hi! I'm Ola. my boyfriend Tom is cooking"},
            {"at": "2024-03-01T18:00:00Z", "text": "give me a sad playlist"},
        ],
        "facts": [_fact("partner", "Tom", None, 0, None)],
        "questions": DATA["users"][0]["questions"],
    }
    out = _report(tmp_path, {"users": [user]})
    assert out["totals"]["stored_facts"] == 2, out["misses"]
    assert out["totals"]["precision"] == 1.0, out["misses"]  # 0.5 before: the name was untrue
