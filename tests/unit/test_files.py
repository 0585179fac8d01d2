"""JSONL files: every bad line names its line and problem, and nothing stored changes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.errors import InputError, UnknownPredicateError
from memlane.memory_graph.files import ingest_file, parse_file
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.predicates import default_registry
from memlane.memory_graph.stores import open_store

pytestmark = pytest.mark.unit

GOOD_MESSAGE = {"user_id": "u1", "content": "I live in Paris", "occurred_at": "2024-01-01"}
GOOD_FACT = {"user_id": "u1", "predicate": "lives_in", "object": "Oslo", "valid_at": "2024-02-01"}


def write(path: Path, *lines: object) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    store = open_store(f"sqlite:///{tmp_path / 'files.db'}")
    async with store:
        mem = Memory(store, make_embedder("hash"))
        # a pre-existing memory that a failed ingest must leave byte-identical
        await ingest_file(
            mem,
            write(
                tmp_path / "seed.jsonl",
                GOOD_MESSAGE,
                {
                    "user_id": "u1",
                    "predicate": "lives_in",
                    "object": "Paris",
                    "object_kind": "place",
                    "valid_at": "2023-01-01",
                },
            ),
        )
        yield mem


async def export_text(memory: Memory) -> str:
    return "".join([json.dumps(r, sort_keys=True) + "\n" async for r in memory.export("u1")])


BAD_LINES = [
    ("malformed JSON", '{"user_id": "u1", "content": "x"', "malformed JSON"),
    ("not an object", "[1, 2, 3]", "expected a JSON object"),
    ("missing content", {"user_id": "u1", "type": "message"}, "missing field 'content'"),
    ("missing user", {"content": "hello"}, "missing field 'user_id'"),
    (
        "missing predicate",
        {"user_id": "u1", "type": "fact", "object": "x"},
        "missing field 'predicate'",
    ),
    ("neither kind", {"user_id": "u1", "text": "x"}, "neither 'content' nor 'predicate'"),
    ("invalid date", {**GOOD_MESSAGE, "occurred_at": "yesterday"}, "invalid occurred_at"),
    ("invalid valid_at", {**GOOD_FACT, "valid_at": "2024-13-45"}, "invalid valid_at"),
    ("control characters", {**GOOD_MESSAGE, "content": "bad \u0007 bell"}, "control characters"),
    ("1 MB message", {**GOOD_MESSAGE, "content": "x" * 1_000_000}, "the limit is 32000"),
    ("unknown predicate", {**GOOD_FACT, "predicate": "collects_stamps"}, "collects_stamps"),
    ("bad predicate name", {**GOOD_FACT, "predicate": "DROP TABLE facts;"}, "invalid predicate"),
    ("bad user id", {**GOOD_MESSAGE, "user_id": "u 1; --"}, "bad user_id"),
    ("bad episode id", {**GOOD_MESSAGE, "id": "../etc/passwd x"}, "bad id"),
    ("bad source id", {**GOOD_FACT, "source": "no spaces allowed"}, "bad episode id"),
    ("unknown field", {**GOOD_MESSAGE, "ocurred_at": "2024-01-01"}, "unknown field 'ocurred_at'"),
    ("bad role", {**GOOD_MESSAGE, "role": "robot"}, "invalid role"),
    ("bad polarity", {**GOOD_FACT, "polarity": "maybe"}, "invalid polarity"),
    ("confidence out of range", {**GOOD_FACT, "confidence": 7}, "invalid confidence"),
    ("window backwards", {**GOOD_FACT, "invalid_at": "2020-01-01"}, "before valid_at"),
    ("reused episode id", {**GOOD_MESSAGE, "id": "m1", "content": "other"}, "already used"),
    ("empty content", {**GOOD_MESSAGE, "content": "   "}, "content is empty"),
]


@pytest.mark.parametrize(("name", "bad", "problem"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
async def test_bad_line_is_named_and_nothing_changes(
    memory: Memory, tmp_path: Path, name: str, bad: object, problem: str
) -> None:
    before = await export_text(memory)
    # The bad line comes third, after two good ones that must not be written either.
    first = {**GOOD_MESSAGE, "id": "m1", "content": "first new message"}
    path = write(tmp_path / "input.jsonl", first, GOOD_FACT, bad, GOOD_MESSAGE)
    with pytest.raises(InputError) as err:
        await ingest_file(memory, path)
    assert err.value.where == f"{path}:3", err.value
    assert problem in err.value.message, err.value.message
    assert await export_text(memory) == before


async def test_unknown_predicate_has_its_own_code(memory: Memory, tmp_path: Path) -> None:
    path = write(tmp_path / "f.jsonl", {**GOOD_FACT, "predicate": "collects_stamps"})
    with pytest.raises(UnknownPredicateError) as err:
        await ingest_file(memory, path)
    assert err.value.code == "unknown_predicate"


async def test_not_utf8_and_missing_file(memory: Memory, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"user_id": "u1", "content": "caf\xe9"}\n')
    with pytest.raises(InputError, match="not UTF-8") as err:
        await ingest_file(memory, path)
    assert err.value.where == f"{path}:1"
    with pytest.raises(InputError, match="cannot read"):
        await ingest_file(memory, tmp_path / "missing.jsonl")
    with pytest.raises(InputError, match="no messages or facts"):
        await ingest_file(memory, write(tmp_path / "empty.jsonl", "", "  "))


async def test_facts_file_with_sources_and_generated_statements(
    memory: Memory, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "facts.jsonl",
        {
            "user_id": "u1",
            "predicate": "moved_to",
            "object": "Berlin",
            "object_kind": "place",
            "source": {"content": "I moved to Berlin", "occurred_at": "2024-06-01", "id": "s-1"},
        },
        {
            "user_id": "u1",
            "subject": "Rex",
            "subject_kind": "pet",
            "predicate": "likes",
            "object": "bones",
            "polarity": "negative",
            "episode_ids": ["s-1"],
        },
    )
    report = await ingest_file(memory, path)
    assert report.kind == "facts" and report.facts_added == 2 and report.facts_closed == 1
    current = {f.statement: f for f in await memory.facts("u1", current_only=True)}
    berlin = current["The user moved to Berlin"]
    assert berlin.valid_at is not None and berlin.valid_at.isoformat().startswith("2024-06-01")
    assert berlin.episode_ids == ("s-1",)
    assert "Not true: Rex likes bones" in current
    # idempotent: the same file again adds nothing
    again = await ingest_file(memory, path)
    assert again.facts_added == 0 and again.episodes_added == 0


async def test_kind_option_and_user_default(memory: Memory, tmp_path: Path) -> None:
    path = write(tmp_path / "m.jsonl", {"content": "hello there", "occurred_at": "2024-03-01"})
    with pytest.raises(InputError, match="unknown field 'content' in a fact"):
        parse_file(path, default_registry(), kind="facts", user_id="u9")
    parsed = parse_file(path, default_registry(), kind="messages", user_id="u9")
    assert parsed.users == ["u9"] and parsed.kind == "messages"
    with pytest.raises(InputError, match="--user"):
        parse_file(write(tmp_path / "x.jsonl", GOOD_MESSAGE), default_registry(), user_id="u9")
