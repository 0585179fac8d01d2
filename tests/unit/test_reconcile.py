"""The reconciler: drafts -> one write set, against the real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.errors import InputError, UnknownPredicateError
from memlane.memory_graph.model import (
    SELF_ID,
    Entity,
    EntityKind,
    Episode,
    FactQuery,
    WriteSet,
    entity_id_for,
)
from memlane.memory_graph.predicates import default_registry
from memlane.memory_graph.reconcile import Reconciler, check_draft
from memlane.memory_graph.sameness import SamenessConfig
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.stores.base import GraphStore
from memlane.memory_graph.timeutil import parse_time
from tests.tools_support.embedders import RecordingEmbedder

pytestmark = pytest.mark.unit

NOW = parse_time("2025-01-01")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[GraphStore]:
    s = open_store(f"sqlite:///{tmp_path / 'r.db'}")
    async with s:
        yield s


def reconciler(store: GraphStore, embedder: HashEmbedder | None = None) -> Reconciler:
    return Reconciler(store, embedder or HashEmbedder(), default_registry(), clock=lambda: NOW)


def episode(eid: str, when: str, user: str = "u1") -> Episode:
    return Episode(
        id=eid,
        user_id=user,
        content=f"message {eid}",
        occurred_at=parse_time(when),
        recorded_at=NOW,
    )


async def test_one_embedder_call_and_nothing_written(store: GraphStore) -> None:
    emb = RecordingEmbedder()
    drafts = [
        FactDraft(predicate="lives_in", object="Oslo", object_kind="place", statement="Oslo"),
        FactDraft(
            subject="Kim",
            predicate="works_at",
            object="Acme Corp",
            object_kind="org",
            statement="Kim works at Acme Corp",
        ),
        FactDraft(predicate="likes", object="tea", statement="I like tea"),
    ]
    writes, report = await reconciler(store, emb).reconcile(
        "u1", drafts, [episode("m1", "2024-01-01"), episode("m2", "2024-01-02")]
    )
    assert len(emb.calls) == 1
    assert report.facts_added == 3 and report.episodes_added == 2
    assert report.entities_added == 4  # self, Oslo, Kim, Acme Corp
    assert set(writes.fact_vectors) == {f.id for f in writes.facts}
    # only names similarity may link (several words) are embedded
    assert set(writes.entity_vectors) == {entity_id_for("Acme Corp")}
    assert set(writes.episode_vectors) == {"m1", "m2"}
    # the drafts default to the batch's episodes and to the latest of their times
    assert all(f.episode_ids == ("m1", "m2") for f in writes.facts)
    assert all(f.valid_at == parse_time("2024-01-02") for f in writes.facts)
    assert await store.counts("u1") == {"episodes": 0, "entities": 0, "facts": 0}


async def test_valid_at_defaults_to_now_without_episodes(store: GraphStore) -> None:
    writes, _ = await reconciler(store).reconcile(
        "u1", [FactDraft(predicate="age", object="41", statement="I am 41")]
    )
    assert writes.facts[0].valid_at == NOW and writes.facts[0].episode_ids == ()


async def test_similar_name_links_to_existing_entity(store: GraphStore) -> None:
    emb = HashEmbedder()
    ent = Entity(id="e_city", user_id="u1", name="New York City", kind="place", created_at=NOW)
    await store.apply(
        WriteSet(user_id="u1", entities=[ent], entity_vectors={"e_city": emb.embed([ent.name])[0]})
    )
    # a different normalised name (no exact match) whose hash vector is close (cosine ~0.85)
    draft = FactDraft(
        predicate="visited",
        object="New York City NYC",
        object_kind="place",
        statement="I visited NYC",
    )
    rec = Reconciler(
        store,
        emb,
        default_registry(),
        clock=lambda: NOW,
        sameness=SamenessConfig(entity_threshold=0.8),
    )
    writes, report = await rec.reconcile("u1", [draft])
    assert writes.facts[0].object_id == "e_city"
    assert report.entities_added == 1  # only the user themself
    linked = next(e for e in writes.entities if e.id == "e_city")
    assert linked.aliases == ("New York City NYC",)


@pytest.mark.parametrize(
    ("known", "known_kind", "said", "said_kind", "linked"),
    [
        ("New York City", "place", "New York City NYC", "place", True),
        ("New York City", "other", "New York City NYC", "place", True),  # other: unknown kind
        ("New York City", "place", "New York City NYC", "other", True),
        ("Acme Robotics", "org", "Acme Robotics Ltd", "person", False),  # kinds differ
        ("Biscuit", "pet", "Lego", "org", False),  # seen: hash vectors of one word are equal
        ("Kenya", "place", "Nairobi", "place", False),  # one word: exact name or alias only
        ("Kenya", "place", "Nairobi Kenya", "place", False),  # the known name is one word
        ("Kenya", "place", "the Kenya", "place", True),  # exact normalised name, not similarity
    ],
)
async def test_similarity_links_only_compatible_kinds_and_multi_word_names(
    store: GraphStore,
    known: str,
    known_kind: EntityKind,
    said: str,
    said_kind: EntityKind,
    linked: bool,
) -> None:
    emb = HashEmbedder()
    ent = Entity(id="e_known", user_id="u1", name=known, kind=known_kind, created_at=NOW)
    await store.apply(
        WriteSet(user_id="u1", entities=[ent], entity_vectors={"e_known": emb.embed([known])[0]})
    )
    draft = FactDraft(
        predicate="visited",
        object=said,
        object_kind=said_kind,
        statement=f"I visited {said}",
    )
    # Every stored entity is similar enough here: only the kind and word rules decide.
    rec = Reconciler(
        store,
        emb,
        default_registry(),
        clock=lambda: NOW,
        sameness=SamenessConfig(entity_threshold=-1.0),
    )
    writes, _ = await rec.reconcile("u1", [draft])
    assert (writes.facts[0].object_id == "e_known") == linked


async def test_other_users_entities_are_never_linked(store: GraphStore) -> None:
    emb = HashEmbedder()
    ent = Entity(id="e_bob", user_id="u2", name="Bob", kind="person", created_at=NOW)
    await store.apply(
        WriteSet(user_id="u2", entities=[ent], entity_vectors={"e_bob": emb.embed(["Bob"])[0]})
    )
    draft = FactDraft(predicate="friend_of", object="Bob", object_kind="person", statement="Bob")
    writes, _ = await reconciler(store, emb).reconcile("u1", [draft])
    new_bob = next(e for e in writes.entities if e.name == "Bob")
    assert new_bob.user_id == "u1"


async def test_contradicts_named_fact_of_same_subject_is_closed(store: GraphStore) -> None:
    rec = reconciler(store)
    first, _ = await rec.reconcile(
        "u1",
        [FactDraft(predicate="likes", object="meat", statement="I like meat")],
        [episode("m1", "2023-01-01")],
    )
    await store.apply(first)
    meat = first.facts[0].id
    draft = FactDraft(
        predicate="diet", object="vegan", statement="I am vegan now", contradicts=[meat]
    )
    writes, report = await rec.reconcile("u1", [draft], [episode("m2", "2024-01-01")])
    assert report.closed_ids == [meat]
    closed = next(f for f in writes.facts if f.id == meat)
    assert closed.invalid_at == parse_time("2024-01-01") and closed.expired_at == NOW


async def test_restates_merges_into_the_named_fact(store: GraphStore) -> None:
    rec = reconciler(store)
    first, _ = await rec.reconcile(
        "u1",
        [FactDraft(predicate="lives_in", object="NYC", statement="I live in NYC")],
        [episode("m1", "2023-01-01")],
    )
    await store.apply(first)
    nyc = first.facts[0].id
    draft = FactDraft(
        predicate="lives_in", object="New York", statement="I live in New York", restates=[nyc]
    )
    writes, report = await rec.reconcile("u1", [draft], [episode("m2", "2024-01-01")])
    assert report.facts_added == 0 and report.facts_merged == 1
    assert [f.episode_ids for f in writes.facts] == [("m1", "m2")]


@pytest.mark.parametrize(
    ("draft", "error", "text"),
    [
        (
            FactDraft(predicate="owns_spaceship", statement="x"),
            UnknownPredicateError,
            "owns_spaceship",
        ),
        (FactDraft(predicate="Lives In!", statement="x"), InputError, "invalid predicate"),
        (FactDraft(predicate="likes", object="a\x00b", statement="x"), InputError, "control"),
        (
            FactDraft(predicate="likes", statement="x", episode_ids=["bad id"]),
            InputError,
            "invalid id",
        ),
        (
            FactDraft(
                predicate="likes",
                statement="x",
                valid_at=parse_time("2024-01-02"),
                invalid_at=parse_time("2024-01-01"),
            ),
            InputError,
            "before valid_at",
        ),
        (
            FactDraft(predicate="friend_of", object="B" * 301, object_kind="person", statement="x"),
            InputError,
            "limit is 300",
        ),
    ],
)
def test_check_draft_rejects(draft: FactDraft, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as err:
        check_draft(draft, default_registry(), where="drafts[0]")
    assert text in str(err.value)
    assert str(err.value).startswith("drafts[0]")


async def test_episode_of_another_user_is_rejected(store: GraphStore) -> None:
    with pytest.raises(InputError):
        await reconciler(store).reconcile("u1", [], [episode("m1", "2024-01-01", user="u2")])


async def test_self_entity_is_reused(store: GraphStore) -> None:
    rec = reconciler(store)
    w1, r1 = await rec.reconcile("u1", [FactDraft(predicate="age", object="40", statement="40")])
    await store.apply(w1)
    _, r2 = await rec.reconcile("u1", [FactDraft(predicate="age", object="41", statement="41")])
    assert r1.entities_added == 1 and r2.entities_added == 0
    assert SELF_ID in {e.id for e in w1.entities}
    assert isinstance(NOW, datetime)


async def test_an_antonym_is_stored_as_its_predicate_negated_in_the_users_words(
    store: GraphStore,
) -> None:
    rec = reconciler(store)
    hate = FactDraft(
        predicate="hates", object="olives", statement="I can't stand olives", kind="preference"
    )
    first, _ = await rec.reconcile("u1", [hate], [episode("m1", "2023-01-01")])
    stored = first.facts[0]
    assert (stored.predicate, stored.polarity) == ("likes", "negative")
    assert stored.statement == "I can't stand olives"
    await store.apply(first)

    like = FactDraft(predicate="likes", object="Olives", statement="I like olives now")
    writes, report = await rec.reconcile("u1", [like], [episode("m2", "2024-01-01")])
    assert report.closed_ids == [stored.id] and report.facts_added == 1
    closed = next(f for f in writes.facts if f.id == stored.id)
    assert closed.invalid_at == parse_time("2024-01-01")


async def test_a_fact_stored_under_an_antonyms_name_is_closed_as_what_it_means(
    store: GraphStore,
) -> None:
    """Facts written before antonyms were folded in (``dislikes`` stored as such) still meet
    a new ``likes`` of the same value, and are rewritten in canonical form when closed."""
    rec = reconciler(store)
    legacy, _ = await rec.reconcile(
        "u1",
        [FactDraft(predicate="likes", object="sushi", statement="I dislike sushi")],
        [episode("m1", "2023-01-01")],
    )
    old = legacy.facts[0].model_copy(update={"predicate": "dislikes"})
    legacy.facts[0] = old
    await store.apply(legacy)

    like = FactDraft(predicate="likes", object="sushi", statement="I like sushi now")
    writes, report = await rec.reconcile("u1", [like], [episode("m2", "2024-01-01")])
    assert report.closed_ids == [old.id]
    closed = next(f for f in writes.facts if f.id == old.id)
    assert (closed.predicate, closed.polarity) == ("likes", "negative")
    assert closed.invalid_at == parse_time("2024-01-01")


async def test_notes_without_a_value_are_told_apart_by_their_statement(
    store: GraphStore,
) -> None:
    # A note has no object and no value: its statement is what makes it "the same value".
    def note(text: str, eid: str) -> FactDraft:
        return FactDraft(subject="Mel", predicate="note", statement=text, episode_ids=[eid])

    rec = reconciler(store)
    eps = [episode("m1", "2023-05-01"), episode("m2", "2023-05-02"), episode("m3", "2023-05-03")]
    writes, report = await rec.reconcile(
        "u1", [note("Mel paints sunsets", "m1"), note("Mel runs a charity race", "m2")], eps
    )
    await store.apply(writes)
    assert report.facts_added == 2 and report.facts_closed == 0 and report.facts_merged == 0
    # The same note again (other case and punctuation) restates the first.
    writes, report = await rec.reconcile("u1", [note("Mel paints sunsets!", "m3")])
    await store.apply(writes)
    assert report.facts_added == 0 and report.facts_merged == 1
    facts = sorted(
        (f.statement, f.episode_ids, f.is_current)
        for f in await store.find_facts("u1", FactQuery(predicate="note"))
    )
    assert facts == [
        ("Mel paints sunsets", ("m1", "m3"), True),
        ("Mel runs a charity race", ("m2",), True),
    ]
