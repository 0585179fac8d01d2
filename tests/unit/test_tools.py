"""The memory tools over a real ``Memory`` on every store backend (SQLite, FalkorDB)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.errors import ConflictError, InputError, NotFoundError
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import GraphStore
from memlane.tools import commands, queries
from tests.tools_support.seed import StepClock, seed_user


@pytest.fixture
async def memory(store: GraphStore) -> Memory:
    return Memory(store, HashEmbedder(), clock=StepClock())


@pytest.fixture
async def ids(memory: Memory) -> dict[str, str]:
    await seed_user(memory, "bob", name="Bob")
    return await seed_user(memory, "alice")


async def test_profile_groups_current_facts_by_kind(memory: Memory, ids: dict[str, str]) -> None:
    now = await queries.profile(memory, "alice")
    assert now.count == 4
    assert {f.object for f in now.facts["fact"]} == {"Berlin", "Acme", "Rex"}
    assert [f.object for f in now.facts["preference"]] == ["sushi"]
    assert all(f.status == "current" and "(Alice)" in f.statement for f in now.facts["fact"])

    then = await queries.profile(memory, "alice", "2023-07-01")
    assert {f.object for f in then.facts["fact"]} == {"Paris", "Acme", "Rex"}
    before = await queries.profile(memory, "alice", "2022-01-01")
    assert before.count == 0


async def test_profile_lists_negations_that_ended_a_value_apart(
    memory: Memory, ids: dict[str, str]
) -> None:
    from memlane.memory_graph.drafts import FactDraft

    def negative(predicate: str, obj: str, kind: str, kind_of_object: str) -> FactDraft:
        return FactDraft(
            predicate=predicate,
            object=obj,
            object_kind=kind_of_object,  # type: ignore[arg-type]
            statement=f"I no longer {predicate} {obj}",
            kind=kind,  # type: ignore[arg-type]
            polarity="negative",
            valid_at=datetime(2024, 5, 1, tzinfo=UTC),
        )

    # "I left Acme", "I don't like sushi anymore": each closes the positive fact it negates.
    await memory.commit(
        "alice",
        [
            negative("works_at", "Acme", "fact", "org"),
            negative("likes", "sushi", "preference", "value"),
        ],
    )
    # "I don't like olives" negates nothing the user had: it is a current preference.
    await memory.commit("alice", [negative("likes", "olives", "preference", "value")])

    now = await queries.profile(memory, "alice")
    assert {(f.predicate, f.object) for f in now.no_longer} == {
        ("works_at", "Acme"),
        ("likes", "sushi"),
    }
    assert all(f.polarity == "negative" and f.status == "current" for f in now.no_longer)
    assert {f.object for f in now.facts["fact"]} == {"Berlin", "Rex"}
    assert [(f.object, f.polarity) for f in now.facts["preference"]] == [("olives", "negative")]
    assert now.count == 3
    # Before the change the positive values were what held; nothing had ended yet.
    then = await queries.profile(memory, "alice", "2024-04-01")
    assert then.no_longer == [] and {f.object for f in then.facts["fact"]} == {
        "Berlin",
        "Acme",
        "Rex",
    }
    # The negations stay in history, and Bob's profile is untouched.
    hist = await queries.history(memory, "alice", "user", "works_at")
    assert [(f.object, f.polarity, f.status) for f in hist.facts] == [
        ("Acme", "positive", "ended"),
        ("Acme", "negative", "current"),
    ]
    assert (await queries.profile(memory, "bob")).no_longer == []


async def test_profile_and_why_read_a_dislike_as_likes_negated(
    memory: Memory, ids: dict[str, str]
) -> None:
    from memlane.memory_graph.drafts import FactDraft

    def dislikes(obj: str, statement: str) -> FactDraft:
        return FactDraft(
            predicate="dislikes",
            object=obj,
            statement=statement,
            kind="preference",
            valid_at=datetime(2024, 5, 1, tzinfo=UTC),
        )

    # "I can't stand sushi" after "I love sushi" ends the love; olives were never liked.
    await memory.commit(
        "alice",
        [dislikes("sushi", "I can't stand sushi"), dislikes("olives", "I hate olives")],
    )
    now = await queries.profile(memory, "alice")
    assert [(f.predicate, f.object, f.statement) for f in now.no_longer] == [
        ("likes", "sushi", "I can't stand sushi")
    ]
    assert [(f.predicate, f.object, f.polarity) for f in now.facts["preference"]] == [
        ("likes", "olives", "negative")
    ]
    why = await queries.why(memory, "alice", now.no_longer[0].id)
    assert [f.id for f in why.superseded] == [ids["likes:sushi"]]
    listed = await queries.facts(memory, "alice", predicate="dislikes")
    assert {f.statement for f in listed.facts} == {"I can't stand sushi", "I hate olives"}


async def test_facts_filters_and_as_of(memory: Memory, ids: dict[str, str]) -> None:
    lives = await queries.facts(memory, "alice", predicate="lives_in")
    assert [f.object for f in lives.facts] == ["Berlin"]
    past = await queries.facts(memory, "alice", "user", "lives_in", as_of="2023-05-01")
    assert [f.object for f in past.facts] == ["Paris"]
    every = await queries.facts(memory, "alice", predicate="lives_in", include_ended=True)
    assert [(f.object, f.status) for f in every.facts] == [
        ("Paris", "ended"),
        ("Berlin", "current"),
    ]
    with pytest.raises(InputError):
        await queries.facts(memory, "alice", as_of="not a date")
    with pytest.raises(NotFoundError):
        await queries.facts(memory, "alice", subject="Nobody At All")


async def test_history_has_validity_windows(memory: Memory, ids: dict[str, str]) -> None:
    hist = await queries.history(memory, "alice", "user", "moved_to")  # a synonym
    assert [(f.object, f.status) for f in hist.facts] == [("Paris", "ended"), ("Berlin", "current")]
    paris, berlin = hist.facts
    assert paris.invalid_at == berlin.valid_at
    assert berlin.valid_at is not None and berlin.valid_at.isoformat().startswith("2024-03-15")


async def test_why_shows_sources_and_supersession(memory: Memory, ids: dict[str, str]) -> None:
    berlin = await queries.why(memory, "alice", ids["lives_in:Berlin"])
    assert [e.content for e in berlin.episodes] == ["I just moved to Berlin! (Alice)"]
    assert berlin.learned_at == berlin.fact.recorded_at
    assert [f.object for f in berlin.superseded] == ["Paris"]
    assert berlin.superseded_by == []

    paris = await queries.why(memory, "alice", ids["lives_in:Paris"])
    assert [f.object for f in paris.superseded_by] == ["Berlin"]
    # A multi-valued predicate does not "replace" unrelated values.
    sushi = await queries.why(memory, "alice", ids["likes:sushi"])
    assert sushi.superseded == sushi.superseded_by == []


async def test_why_is_scoped_to_the_user(memory: Memory, ids: dict[str, str]) -> None:
    with pytest.raises(NotFoundError):
        await queries.why(memory, "bob", ids["lives_in:Berlin"])
    with pytest.raises(InputError):
        await queries.why(memory, "alice", "not an id!")


async def test_diff_between_two_times(memory: Memory, ids: dict[str, str]) -> None:
    d = await queries.diff(memory, "alice", "2024-01-01", "2024-12-31")
    assert [f.object for f in d.started] == ["Berlin"]
    assert [f.object for f in d.ended] == ["Paris"]
    early = await queries.diff(memory, "alice", "2023-01-01", "2023-12-31")
    assert {f.object for f in early.started} == {"Paris", "Acme", "sushi", "Rex"}
    assert early.ended == []
    with pytest.raises(InputError):
        await queries.diff(memory, "alice", "2024-01-01", "2023-01-01")


async def test_remember_writes_a_sourced_note(memory: Memory, ids: dict[str, str]) -> None:
    done = await commands.remember(memory, "alice", "My locker code is 4512")
    assert done.fact.predicate == "note" and done.fact.status == "current"
    assert done.fact.episode_ids == [done.episode.id]
    why = await queries.why(memory, "alice", done.fact.id)
    assert why.episodes[0].content == "Remember: My locker code is 4512"
    again = await commands.remember(memory, "alice", "my locker code is 4512")
    assert again.fact.id == done.fact.id
    other = await commands.remember(memory, "alice", "I prefer aisle seats")
    assert other.fact.id != done.fact.id
    assert (await queries.profile(memory, "bob")).count == 4
    with pytest.raises(InputError):
        await commands.remember(memory, "alice", "   ")


async def test_correct_retracts_and_records_the_correction(
    memory: Memory, ids: dict[str, str]
) -> None:
    fixed = await commands.correct(memory, "alice", ids["lives_in:Berlin"], "Munich")
    assert fixed.old.status == "retracted" and fixed.old.expired_at is not None
    assert fixed.old.invalid_at is None
    assert fixed.new.status == "current" and fixed.new.object == "Munich"
    assert fixed.new.statement == "I live in Munich (Alice)"
    assert fixed.new.valid_at == fixed.old.valid_at
    assert fixed.new.episode_ids == [fixed.episode.id]

    why = await queries.why(memory, "alice", fixed.new.id)
    assert why.episodes[0].content.startswith("Correction:")
    assert ids["lives_in:Berlin"] in {f.id for f in why.superseded}
    old_why = await queries.why(memory, "alice", ids["lives_in:Berlin"])
    assert [f.id for f in old_why.superseded_by] == [fixed.new.id]

    now = await queries.facts(memory, "alice", predicate="lives_in")
    assert [f.object for f in now.facts] == ["Munich"]
    hist = await queries.history(memory, "alice", "user", "lives_in")
    assert [(f.object, f.status) for f in hist.facts] == [
        ("Paris", "ended"),
        ("Berlin", "retracted"),
        ("Munich", "current"),
    ]
    with pytest.raises(ConflictError):
        await commands.correct(memory, "alice", ids["lives_in:Berlin"], "Hamburg")
    with pytest.raises(InputError):
        await commands.correct(memory, "alice", fixed.new.id, "munich")
    with pytest.raises(NotFoundError):
        await commands.correct(memory, "bob", fixed.new.id, "Rome")


async def test_correct_reuses_a_known_entity(memory: Memory, ids: dict[str, str]) -> None:
    fixed = await commands.correct(memory, "alice", ids["lives_in:Berlin"], "paris")
    paris = await queries.why(memory, "alice", ids["lives_in:Paris"])
    assert fixed.new.object_id == paris.fact.object_id
    literal = await commands.correct(memory, "alice", ids["likes:sushi"], "ramen")
    assert literal.new.object_id is None and literal.new.object == "ramen"


async def test_forget_one_fact_or_everything(memory: Memory, ids: dict[str, str]) -> None:
    gone = await commands.forget(memory, "alice", ids["likes:sushi"])
    assert gone.deleted == {"facts": 1}
    assert (await queries.profile(memory, "alice")).facts["preference"] == []
    with pytest.raises(NotFoundError):
        await commands.forget(memory, "alice", ids["likes:sushi"])
    with pytest.raises(NotFoundError):
        await commands.forget(memory, "bob", ids["lives_in:Berlin"])
    with pytest.raises(InputError):
        await commands.forget(memory, "alice")
    with pytest.raises(InputError):
        await commands.forget(memory, "alice", ids["lives_in:Berlin"], everything=True)
    everything = await commands.forget(memory, "alice", everything=True)
    assert everything.deleted["facts"] == 4
    assert (await queries.profile(memory, "alice")).count == 0
    assert (await queries.profile(memory, "bob")).count == 4


async def test_export_graph_and_timeline(memory: Memory, ids: dict[str, str]) -> None:
    exported = await queries.export(memory, "alice")
    assert exported.counts == {"episode": 3, "entity": 5, "fact": 5}
    assert all(r["user_id"] == "alice" for r in exported.records)

    g = await queries.graph(memory, "alice")
    assert {e.name for e in g.entities} >= {"Berlin", "Acme", "Rex"}
    assert "Paris" not in {e.name for e in g.entities}
    assert len(g.facts) == 4
    old = await queries.graph(memory, "alice", "2023-07-01")
    assert "Paris" in {e.name for e in old.entities}

    t = await queries.timeline(memory, "alice")
    changes = [(e.change, e.fact.object) for e in t.events]
    assert changes[0] == ("started", "Berlin") or ("ended", "Paris") in changes[:2]
    assert ("ended", "Paris") in changes and ("started", "Paris") in changes
    assert [e.at for e in t.events] == sorted((e.at for e in t.events), reverse=True)


async def test_search_finds_relevant_facts_and_messages(
    memory: Memory, ids: dict[str, str]
) -> None:
    found = await queries.search(memory, "alice", "where does Alice live, Berlin?", k=5)
    assert found.facts and len(found.facts) <= 5
    assert ids["lives_in:Berlin"] in {f.id for f in found.facts}
    assert all(f.score is not None for f in found.facts)
    assert all("(Bob)" not in f.statement for f in found.facts + found.superseded)
    assert all("(Bob)" not in e.content for e in found.episodes)
    assert found.text
    then = await queries.search(memory, "alice", "where does Alice live?", as_of="2023-07-01")
    assert "Berlin" not in {f.object for f in then.facts}
    with pytest.raises(InputError):
        await queries.search(memory, "alice", "  ")
    with pytest.raises(InputError):
        await queries.search(memory, "alice", "x", k=0)


async def test_correct_refuses_the_same_value_in_other_words(
    memory: Memory, ids: dict[str, str]
) -> None:
    """Sameness is the reconciler's: "sushi tbh" is the value "sushi"."""
    with pytest.raises(InputError):
        await commands.correct(memory, "alice", ids["likes:sushi"], "sushi tbh")


async def test_correct_of_a_persons_name_renames_them(memory: Memory, ids: dict[str, str]) -> None:
    """Correcting a misspelt person goes the reconciler's way: the same person, renamed; her
    other facts follow and read with her right name."""
    from memlane.memory_graph.drafts import FactDraft

    await memory.commit(
        "alice",
        [
            FactDraft(predicate="has_sibling", object="Katarina", object_kind="person",
                      statement="My sister Katarina lives in Kraków"),
            FactDraft(subject="Katarina", predicate="lives_in", object="Kraków",
                      object_kind="place", statement="Katarina lives in Kraków"),
        ],
    )  # fmt: skip
    (sister,) = (await queries.facts(memory, "alice", predicate="has_sibling")).facts
    fixed = await commands.correct(memory, "alice", sister.id, "Katarzyna")
    assert fixed.new.object == "Katarzyna" and fixed.new.status == "current"
    home = await queries.facts(memory, "alice", subject="Katarzyna", predicate="lives_in")
    assert [f.statement for f in home.facts] == ["Katarzyna lives in Kraków"]
    people = [e for e in await memory.entities("alice") if e.kind == "person"]
    assert [e.name for e in people] == ["Katarzyna"]
