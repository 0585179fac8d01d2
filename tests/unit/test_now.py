"""What is current is decided at "now" (issue 11): a start still to come is not current, and
becomes current when its date arrives with no write; every reader agrees with ``facts --as-of
<now>``; a dated plan is current until its date and says what it is planned for."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.timeutil import parse_time
from memlane.tools import queries

pytestmark = pytest.mark.unit

USER = "u1"


class SetClock:
    """A clock the test moves by hand (memory's "now")."""

    def __init__(self, start: str) -> None:
        self.now = parse_time(start)

    def set(self, when: str) -> None:
        self.now = parse_time(when)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> SetClock:
    return SetClock("2025-01-01T12:00:00Z")


@pytest.fixture
async def memory(tmp_path: Path, clock: SetClock) -> AsyncIterator[Memory]:
    async with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
        yield Memory(store, HashEmbedder(), clock=clock)


def _episode(eid: str, text: str, when: str) -> Episode:
    at = parse_time(when)
    return Episode(id=eid, user_id=USER, content=text, occurred_at=at, recorded_at=at)


async def _home_then_future_home(memory: Memory) -> None:
    """Berlin since 2024; an import says Ghent from 2025-03-01 (still to come)."""
    await memory.commit(
        USER,
        [
            FactDraft(
                predicate="lives_in",
                object="Berlin",
                object_kind="place",
                statement="I live in Berlin",
                valid_at="2024-01-01",
            )
        ],
    )
    await memory.commit(
        USER,
        [
            FactDraft(
                predicate="lives_in",
                object="Ghent",
                object_kind="place",
                statement="I live in Ghent",
                valid_at="2025-03-01",
            )
        ],
    )


async def _readers(memory: Memory) -> dict[str, list[str]]:
    """The user's current home as each reader shows it."""
    now = memory.clock()
    profile = await queries.profile(memory, USER)
    listed = await queries.facts(memory, USER, predicate="lives_in")
    as_of = await queries.facts(memory, USER, predicate="lives_in", as_of=now)
    graph = await queries.graph(memory, USER)
    ctx = await memory.recall(USER, "where do I live?")
    return {
        "profile": sorted(
            f.object or "" for f in profile.facts["fact"] if f.predicate == "lives_in"
        ),
        "facts": sorted(f.object or "" for f in listed.facts),
        "as_of_now": sorted(f.object or "" for f in as_of.facts),
        "inspector": sorted(f.object or "" for f in graph.facts if f.predicate == "lives_in"),
        "recall": sorted(
            {
                cf.object_name or ""
                for cf in [*ctx.profile, *ctx.facts]
                if cf.fact.predicate == "lives_in"
            }
        ),
        "status current": sorted(f.object or "" for f in listed.facts if f.status == "current"),
    }


async def test_a_future_start_is_not_current_anywhere_until_it_arrives(
    memory: Memory, clock: SetClock
) -> None:
    await _home_then_future_home(memory)
    readers = await _readers(memory)
    assert all(seen == ["Berlin"] for seen in readers.values()), str(readers)

    clock.set("2025-03-02T09:00:00Z")  # the date arrives; nothing is written
    readers = await _readers(memory)
    assert all(seen == ["Ghent"] for seen in readers.values()), str(readers)


async def test_recall_does_not_call_a_value_ending_in_the_future_no_longer_true(
    memory: Memory,
) -> None:
    await _home_then_future_home(memory)
    ctx = await memory.recall(USER, "where do I live?")
    assert "Berlin" in ctx.text.split("No longer true:")[0]
    assert not any(cf.fact.value == "Berlin" or cf.object_name == "Berlin" for cf in ctx.superseded)


async def _plan(memory: Memory) -> None:
    """Said on 2025-01-01: "relocating to Ghent next week" (planned for 2025-01-08)."""
    ep = _episode("ep-plan", "I'm relocating to Ghent next week", "2025-01-01T10:00:00Z")
    await memory.commit(
        USER,
        [
            FactDraft(
                predicate="plans",
                object="move to Ghent",
                statement="The user plans to move to Ghent.",
                kind="event",
                # A committed draft means what every draft means: the plan holds until the
                # day it is for (the agent maps an extraction's told date to this).
                invalid_at="2025-01-08",
                episode_ids=[ep.id],
            )
        ],
        [ep],
    )


async def test_a_dated_plan_is_current_until_its_date_and_says_when_it_is_for(
    memory: Memory, clock: SetClock
) -> None:
    await _plan(memory)
    current = await memory.facts(USER, predicate="plans", current_only=True)
    assert [f.value for f in current] == ["move to Ghent"]
    ctx = await memory.recall(USER, "what are my plans?")
    (line,) = [ln for ln in ctx.text.splitlines() if "Ghent" in ln and ln.startswith("- [")]
    assert "planned for 2025-01-08" in line
    assert "No longer true" not in ctx.text.split(line)[0]

    clock.set("2025-01-10T09:00:00Z")  # after its date: no longer a current plan
    assert await memory.facts(USER, predicate="plans", current_only=True) == []
    ctx = await memory.recall(USER, "what are my plans?")
    assert not any("Ghent" in (cf.fact.value or "") for cf in ctx.facts)


async def test_a_later_confirming_message_starts_the_real_fact(
    memory: Memory, clock: SetClock
) -> None:
    await _plan(memory)
    clock.set("2025-01-09T09:00:00Z")
    ep = _episode("ep-moved", "We moved to Ghent yesterday!", "2025-01-09T08:00:00Z")
    await memory.commit(
        USER,
        [
            FactDraft(
                predicate="lives_in",
                object="Ghent",
                object_kind="place",
                statement="The user moved to Ghent.",
                valid_at="2025-01-08",
                episode_ids=[ep.id],
            )
        ],
        [ep],
    )
    (home,) = await memory.facts(USER, predicate="lives_in", current_only=True)
    assert home.valid_at == parse_time("2025-01-08")
    assert await memory.facts(USER, predicate="plans", current_only=True) == []
