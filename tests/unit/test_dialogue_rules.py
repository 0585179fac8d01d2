"""Memory that stays right on real dialogue (issue 11), through the real Memory and SQLite.

Each test is a defect of the code before issue 11: observed taken for started, corrections
taken for changes, identity replaced by a weak reading.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode, episode_id_for
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.timeutil import parse_time

pytestmark = pytest.mark.unit

USER = "u1"


class Clock:
    def __init__(self) -> None:
        self.now = parse_time("2024-05-10T10:00:00Z")

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[tuple[Memory, Clock]]:
    clock = Clock()
    async with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        yield Memory(store, HashEmbedder(), clock=clock), clock


def _episode(text: str, when: datetime) -> Episode:
    return Episode(
        id=episode_id_for("s1", "user", when, text),
        user_id=USER,
        session_id="s1",
        content=text,
        occurred_at=when,
        recorded_at=when,
    )


async def _say(mem: Memory, clock: Clock, when: str, text: str, *drafts: dict[str, object]) -> None:
    clock.now = parse_time(when)
    ep = _episode(text, clock.now)
    await mem.commit(
        USER,
        [FactDraft(statement=text, episode_ids=[ep.id], **d) for d in drafts],  # type: ignore[arg-type]
        [ep],
    )


async def _current(mem: Memory, predicate: str) -> list[str]:
    return [
        f.value or ""
        for f in await mem.facts(USER, subject="user", predicate=predicate, current_only=True)
    ]


async def test_a_dated_move_said_later_replaces_an_undated_home(
    memory: tuple[Memory, Clock],
) -> None:
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "I live in Lisbon.",
        {"predicate": "lives_in", "object": "Lisbon"},
    )
    await _say(
        mem,
        clock,
        "2024-05-10T10:01:00Z",
        "I moved to Berlin yesterday.",
        {"predicate": "lives_in", "object": "Berlin", "valid_at": "2024-05-09"},
    )
    assert await _current(mem, "lives_in") == ["Berlin"]
    history = await mem.history(USER, "user", "lives_in")
    lisbon = next(f for f in history if f.value == "Lisbon")
    assert lisbon.invalid_at == parse_time("2024-05-09") and lisbon.valid_at is None
    # What was said about each start is stored, not only derived.
    berlin = next(f for f in history if f.value == "Berlin")
    assert (lisbon.start_precision, berlin.start_precision) == ("unknown", "day")


async def test_a_correction_retracts_the_wrong_value(memory: tuple[Memory, Clock]) -> None:
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "I live in Dresden.",
        {"predicate": "lives_in", "object": "Dresden"},
    )
    await _say(
        mem,
        clock,
        "2024-05-10T10:02:00Z",
        "sorry, I meant Leipzig, not Dresden",
        {"predicate": "lives_in", "object": "Leipzig", "corrects_value": "Dresden"},
    )
    assert await _current(mem, "lives_in") == ["Leipzig"]
    dresden = next(f for f in await mem.history(USER, "user", "lives_in") if f.value == "Dresden")
    assert dresden.is_retracted and dresden.invalid_at is None
    # Never valid: no view of the world, at any time, holds it.
    assert not await mem.facts(USER, predicate="lives_in", as_of="2024-05-10T10:01:00Z") or all(
        f.value != "Dresden"
        for f in await mem.facts(USER, predicate="lives_in", as_of="2024-05-10T10:01:00Z")
    )


async def test_a_weak_reading_never_replaces_the_users_name(
    memory: tuple[Memory, Clock],
) -> None:
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "My name is Keira.",
        {"predicate": "name", "object": "Keira", "confidence": 0.9},
    )
    await _say(
        mem,
        clock,
        "2024-05-11T10:00:00Z",
        "Nobody here gets it.",
        {"predicate": "name", "object": "Nobody", "confidence": 0.6},
    )
    assert await _current(mem, "name") == ["Keira"]
    await _say(
        mem,
        clock,
        "2024-05-12T10:00:00Z",
        "Call me Kay from now on.",
        {"predicate": "name", "object": "Kay", "confidence": 0.9},
    )
    assert await _current(mem, "name") == ["Kay"]


async def test_an_end_told_later_closes_a_plan(memory: tuple[Memory, Clock]) -> None:
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "relocating to Ghent next week",
        {"predicate": "plans", "object": "move to Ghent", "valid_at": "2024-05-10"},
    )
    await _say(
        mem,
        clock,
        "2024-05-20T10:00:00Z",
        "we made it to Ghent",
        {"predicate": "plans", "object": "move to Ghent", "invalid_at": "2024-05-17"},
    )
    assert await _current(mem, "plans") == []


async def test_a_future_start_is_not_current_until_it_arrives(
    memory: tuple[Memory, Clock],
) -> None:
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "I work at Acme.",
        {"predicate": "works_at", "object": "Acme"},
    )
    await _say(
        mem,
        clock,
        "2024-05-11T10:00:00Z",
        "I start at Globex on June 1.",
        {"predicate": "works_at", "object": "Globex", "valid_at": "2024-06-01"},
    )
    now = [f.value for f in await mem.facts(USER, predicate="works_at", as_of=clock.now)]
    assert await _current(mem, "works_at") == now == ["Acme"]
    clock.now = parse_time("2024-06-02T09:00:00Z")  # no write in between
    assert await _current(mem, "works_at") == ["Globex"]


async def test_a_weak_reading_is_never_stored_as_the_name_when_none_is_known(
    memory: tuple[Memory, Clock],
) -> None:
    """ "Nobody here gets it" with no name known yet: at most a low-confidence alias, never
    the user's name, so it cannot leak into later statements."""
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-11T10:00:00Z",
        "Nobody here gets it.",
        {"predicate": "name", "object": "Nobody", "confidence": 0.6},
        {"predicate": "age", "object": "10", "confidence": 0.5},
    )
    assert await _current(mem, "name") == []
    assert await _current(mem, "age") == []
    await _say(
        mem,
        clock,
        "2024-05-12T10:00:00Z",
        "My name is Keira.",
        {"predicate": "name", "object": "Keira", "confidence": 0.9},
    )
    assert await _current(mem, "name") == ["Keira"]


async def test_a_correction_names_the_wrong_value_as_said_with_filler(
    memory: tuple[Memory, Clock],
) -> None:
    """The wrong value is found by the one value-sameness key ("hiking lol" is "hiking")."""
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "I like hiking.",
        {"predicate": "likes", "object": "hiking", "kind": "preference"},
    )
    await _say(
        mem,
        clock,
        "2024-05-10T10:02:00Z",
        "sorry, I meant climbing, not hiking lol",
        {"predicate": "likes", "object": "climbing", "corrects_value": "hiking lol"},
    )
    assert await _current(mem, "likes") == ["climbing"]


async def test_a_correction_of_paris_leaves_paris_texas(memory: tuple[Memory, Clock]) -> None:
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "I went to Paris, and to Paris, Texas.",
        {"predicate": "visited", "object": "Paris", "kind": "event"},
        {"predicate": "visited", "object": "Paris, Texas", "kind": "event"},
    )
    await _say(
        mem,
        clock,
        "2024-05-10T10:02:00Z",
        "sorry, I meant Lyon, not Paris",
        {"predicate": "visited", "object": "Lyon", "kind": "event", "corrects_value": "Paris"},
    )
    assert sorted(await _current(mem, "visited")) == ["Lyon", "Paris, Texas"]


async def test_a_misspelt_person_is_renamed_not_replaced(memory: tuple[Memory, Clock]) -> None:
    """ "it's Katarzyna, not Katarina": the sister is the same person with her name fixed;
    her other facts follow, and statements read with the current name."""
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "My sister Katarina lives in Kraków.",
        {"predicate": "has_sibling", "object": "Katarina", "object_kind": "person"},
        {"subject": "Katarina", "predicate": "lives_in", "object": "Kraków",
         "object_kind": "place"},
    )  # fmt: skip
    await _say(
        mem,
        clock,
        "2024-05-10T10:05:00Z",
        "it's Katarzyna, not Katarina",
        {"predicate": "has_sibling", "object": "Katarzyna", "object_kind": "person",
         "corrects_value": "Katarina"},
    )  # fmt: skip
    entities = {e.id: e for e in await mem.entities(USER)}
    people = [e for e in entities.values() if e.kind == "person"]
    assert [(e.name, e.aliases) for e in people] == [("Katarzyna", ("Katarina",))]
    (sister,) = await mem.facts(USER, predicate="has_sibling", current_only=True)
    assert sister.object_id == people[0].id and not sister.is_retracted
    (home,) = await mem.facts(USER, subject="Katarzyna", predicate="lives_in", current_only=True)
    assert home.subject_id == people[0].id
    ctx = await mem.recall(USER, "where does my sister live?")
    assert (
        "Katarzyna lives in Kraków" in ctx.text
        and "Katarina" not in ctx.text.split("From conversations:")[0]
    )


async def test_statements_read_with_the_users_current_name(
    memory: tuple[Memory, Clock],
) -> None:
    """A statement written while the user's name was wrong reads with the right one."""
    mem, clock = memory
    await _say(
        mem,
        clock,
        "2024-05-10T10:00:00Z",
        "I'm Katarina.",
        {"predicate": "name", "object": "Katarina", "confidence": 0.9},
    )
    clock.now = parse_time("2024-05-10T10:01:00Z")
    ep = _episode("allergic to nuts", clock.now)
    await mem.commit(
        USER,
        [FactDraft(predicate="allergic_to", object="nuts", statement="Katarina is allergic to "
                   "nuts.", episode_ids=[ep.id])],
        [ep],
    )  # fmt: skip
    await _say(
        mem,
        clock,
        "2024-05-10T10:05:00Z",
        "it's Katarzyna, not Katarina",
        {"predicate": "name", "object": "Katarzyna", "confidence": 0.9,
         "corrects_value": "Katarina"},
    )  # fmt: skip
    ctx = await mem.recall(USER, "what am I allergic to?")
    facts_part = ctx.text.split("From conversations:")[0]
    assert "Katarzyna is allergic to nuts." in facts_part and "Katarina" not in facts_part
