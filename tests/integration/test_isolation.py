"""User isolation: nothing of user B ever comes back from any read path asked for user A.

Both users share entity names (Bob, Paris), episode ids (m1, m2) and even fact ids (the same
statement key from the same episode id). Everything B says carries the marker "zebra", and
A's queries ask for it, so a leak would rank B's records first.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from memlane.app.cli import app
from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import make_embedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.timeutil import parse_time

pytestmark = pytest.mark.integration

A, B = "alice", "bobby"
MARK = "zebra"
QUERIES = ["zebra", "Where does Bob live?", "zebra Paris Bob Acme", "what do I like"]


def episode(user: str, eid: str, text: str, when: str) -> Episode:
    return Episode(
        id=eid,
        user_id=user,
        session_id="s1",
        content=text,
        occurred_at=when,
        recorded_at=parse_time("2025-01-01"),
    )


def life(user: str) -> tuple[list[FactDraft], list[Episode]]:
    tag = f" {MARK}" if user == B else ""
    eps = [
        episode(user, "m1", f"I live in Paris{tag}", "2020-01-01"),
        episode(user, "m2", f"Bob is my friend and works at Acme{tag}", "2021-01-01"),
    ]
    drafts = [
        FactDraft(
            predicate="lives_in",
            object="Paris",
            object_kind="place",
            statement=f"I live in Paris{tag}",
            episode_ids=["m1"],
        ),
        FactDraft(
            predicate="friend_of",
            object="Bob",
            object_kind="person",
            statement=f"Bob is my friend{tag}",
            episode_ids=["m2"],
        ),
        FactDraft(
            subject="Bob",
            predicate="works_at",
            object="Acme",
            object_kind="org",
            statement=f"Bob works at Acme{tag}",
            episode_ids=["m2"],
        ),
        FactDraft(
            predicate="likes",
            object="zebras" if user == B else "tea",
            statement=f"I like {'zebras' if user == B else 'tea'}",
            episode_ids=["m2"],
        ),
    ]
    if user == B:
        eps.append(episode(B, "m3", f"I moved to Zebraville {MARK}", "2022-01-01"))
        drafts.append(
            FactDraft(
                predicate="lives_in",
                object="Zebraville",
                object_kind="place",
                statement=f"I moved to Zebraville {MARK}",
                episode_ids=["m3"],
            )
        )
    return drafts, eps


@pytest.fixture
async def store_url(tmp_path: Path) -> AsyncIterator[str]:
    url = f"sqlite:///{tmp_path / 'iso.db'}"
    async with open_store(url) as store:
        memory = Memory(store, make_embedder("hash"))
        for user in (A, B):
            drafts, eps = life(user)
            await memory.commit(user, drafts, eps)
    yield url


def assert_clean(payload: Any, where: str) -> None:
    """No marker of B and no record owned by B anywhere in ``payload``."""
    text = json.dumps(payload, default=str).lower() if not isinstance(payload, str) else payload
    assert MARK not in text.lower(), f"{where} leaked user B's data: {text[:500]}"
    assert f'"user_id": "{B}"' not in text, f"{where} returned a record of user B"


def dump(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        out = obj.model_dump(mode="json")
        out.pop("query", None)  # a MemoryContext echoes the question, which names the marker
        return out
    if isinstance(obj, list):
        return [dump(o) for o in obj]
    return obj


async def test_every_memory_read_path_is_scoped(store_url: str) -> None:
    async with open_store(store_url) as store:
        memory = Memory(store, make_embedder("hash"))
        # sanity: B really holds marked data and the shared ids
        b_facts = await memory.facts(B)
        assert any(MARK in f.statement for f in b_facts)
        a_facts = await memory.facts(A)
        assert {f.id for f in a_facts} & {f.id for f in b_facts}, "the fixture shares fact ids"

        for query in QUERIES:
            assert_clean(dump(await memory.recall(A, query)), f"recall({query!r})")
            assert_clean(
                dump(await memory.recall(A, query, as_of="2021-06-01")), f"recall as_of {query!r}"
            )
            assert_clean(dump(await memory.candidates(A, query)), f"candidates({query!r})")
        for kwargs in (
            {},
            {"current_only": True},
            {"as_of": "2023-01-01"},
            {"subject": "Bob"},
            {"predicate": "lives_in"},
        ):
            found = await memory.facts(A, **kwargs)  # type: ignore[arg-type]
            assert found, kwargs
            assert_clean(dump(found), f"facts({kwargs})")
        assert_clean(dump(await memory.history(A, "user", "lives_in")), "history(user)")
        assert_clean(dump(await memory.history(A, "Bob", "works_at")), "history(Bob)")
        assert_clean(dump(await memory.entities(A)), "entities")
        assert_clean(dump(await memory.episodes(A, ["m1", "m2", "m3"])), "episodes")
        assert_clean([r async for r in memory.export(A)], "export")
        # B's own place is not an entity of A, so A cannot even name it
        with pytest.raises(Exception, match="no entity named"):
            await memory.history(A, "Zebraville", "lives_in")

        # forgetting A leaves B whole
        before = [r async for r in memory.export(B)]
        await memory.forget(A)
        assert [r async for r in memory.export(B)] == before


def test_every_cli_read_command_is_scoped(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMLANE_EMBEDDER", "hash")
    monkeypatch.setenv("MEMLANE_STORE", store_url)
    runner = CliRunner()
    commands = [
        ["facts", A, "--json"],
        ["facts", A, "--all", "--json"],
        ["facts", A, "--as-of", "2021-06-01", "--json"],
        ["facts", A, "--subject", "Bob", "--json"],
        ["history", A, "user", "lives_in", "--json"],
        ["history", A, "Bob", "works_at", "--json"],
        ["export", A],
        *(["recall", A, q, "--json"] for q in QUERIES),
        ["recall", A, "zebra", "--as-of", "2021-06-01", "--json"],
    ]
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert result.stdout.strip(), args
        payload: Any = result.stdout
        if args[0] == "recall":
            payload = json.loads(result.stdout)
            payload.pop("query")  # the question itself names the marker
        assert_clean(payload, " ".join(args))
