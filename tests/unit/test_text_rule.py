"""One text rule (no control characters but tab, newline and carriage return; not blank; not
too long), applied alike by every entry point that accepts text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.errors import InputError
from memlane.memory_graph.files import parse_file
from memlane.memory_graph.model import TEXT_PATTERN, Episode, text_problem
from memlane.memory_graph.predicates import default_registry
from memlane.memory_graph.reconcile import check_draft
from memlane.memory_graph.timeutil import parse_time
from memlane.tools._common import check_text
from memlane.tools.specs import RememberArgs  # the HTTP remember body

pytestmark = pytest.mark.unit

WHEN = parse_time("2024-01-01")

TEXTS = [
    ("plain", "I live in Lisbon", True),
    ("tab, newline, carriage return", "a\tb\nc\r\nd", True),
    ("unicode", "Zoë lives in Zürich — café ☕", True),
    ("NUL", "I live in\x00 Lisbon", False),
    ("bell", "bad \x07 bell", False),
    ("vertical tab", "a\x0bb", False),
    ("form feed", "a\x0cb", False),
    ("escape", "a\x1b[31mred", False),
    ("unit separator", "a\x1fb", False),
    ("DEL", "a\x7fb", False),
]


def _episode_ok(text: str) -> bool:
    try:
        Episode(id="m1", user_id="u1", content=text, occurred_at=WHEN, recorded_at=WHEN)
    except ValidationError:
        return False
    return True


def _draft_ok(text: str) -> bool:
    try:
        check_draft(FactDraft(predicate="note", statement=text), default_registry(), where="d")
    except InputError:
        return False
    return True


def _tools_ok(text: str) -> bool:
    try:
        check_text(text, "statement", 2000)
    except InputError:
        return False
    return True


def _server_ok(text: str) -> bool:
    try:
        RememberArgs(statement=text)
    except ValidationError:
        return False
    return True


def _file_ok(text: str, tmp_path: Path) -> bool:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"user_id": "u1", "content": text}) + "\n")
    try:
        parse_file(path, default_registry(), kind="messages")
    except InputError:
        return False
    return True


@pytest.mark.parametrize(("name", "text", "ok"), TEXTS, ids=[t[0] for t in TEXTS])
def test_every_entry_point_applies_the_same_rule(
    name: str, text: str, ok: bool, tmp_path: Path
) -> None:
    assert (text_problem(text, 2000) is None) == ok
    assert (re.fullmatch(TEXT_PATTERN, text) is not None) == ok
    assert _episode_ok(text) == ok
    assert _draft_ok(text) == ok
    assert _tools_ok(text) == ok
    assert _server_ok(text) == ok
    assert _file_ok(text, tmp_path) == ok


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("   ", "is empty"),
        ("x" * 11, "is 11 characters; the limit is 10"),
        ("\x00", "contains control characters"),
        ("fine", None),
    ],
)
def test_text_problem_names_what_is_wrong(text: str, problem: str | None) -> None:
    assert text_problem(text, 10) == problem
