"""Contract: reads by id, FactQuery filters (the semantics of ``FactQuery.matches``), entity
lookup, sessions, neighbourhood, users and counts."""

from __future__ import annotations

import itertools

import pytest

from memlane.memory_graph.model import Fact, FactQuery, WriteSet
from memlane.memory_graph.stores import GraphStore
from tests.conftest import Sample, days

pytestmark = pytest.mark.contract


def timeline(s: Sample, user: str = "alice") -> list[Fact]:
    """Facts covering every shape of validity window."""
    return [
        # lives_in: Lisbon (closed) -> Porto (current); a retracted Madrid
        s.fact(
            user,
            "f_lisbon",
            "The user lives in Lisbon",
            predicate="lives_in",
            obj="lisbon",
            valid=0,
            invalid=10,
            recorded=0,
            expired=10,
        ),
        s.fact(
            user,
            "f_porto",
            "The user lives in Porto",
            predicate="lives_in",
            obj="porto",
            valid=10,
            recorded=10,
        ),
        s.fact(
            user,
            "f_madrid",
            "The user lives in Madrid",
            predicate="lives_in",
            obj="madrid",
            valid=5,
            recorded=5,
            expired=6,
        ),
        # no valid_at: counts as always valid until closed
        s.fact(user, "f_name", "The user is called Sam", predicate="name", value="Sam", recorded=2),
        # closed with invalid_at only (the world moved on, memlane not yet expired it)
        s.fact(
            user,
            "f_job",
            "The user works as a baker",
            predicate="job_title",
            value="baker",
            kind="trait",
            valid=1,
            invalid=20,
            recorded=1,
        ),
        # starts in the future of most as_of points
        s.fact(
            user,
            "f_trip",
            "The user will travel to Japan",
            predicate="plans",
            obj="japan",
            kind="event",
            valid=30,
            recorded=3,
        ),
        s.fact(
            user,
            "f_sushi",
            "The user likes sushi",
            kind="preference",
            value="sushi",
            recorded=4,
            valid=4,
        ),
        s.fact(
            user,
            "f_nosushi",
            "The user stopped eating sushi",
            kind="preference",
            value="sushi",
            polarity="negative",
            valid=12,
            recorded=12,
        ),
        # another subject
        s.fact(
            user,
            "f_bob_city",
            "Bob lives in Porto",
            subject="bob",
            predicate="lives_in",
            obj="porto",
            valid=3,
            recorded=3,
        ),
        # same start time as f_porto: ties broken by recorded_at then id
        s.fact(
            user,
            "f_cat",
            "The user has a cat",
            predicate="has_pet",
            obj="cat",
            valid=10,
            recorded=10,
        ),
    ]


def reference(facts: list[Fact], query: FactQuery) -> list[str]:
    ordered = sorted(
        facts, key=lambda f: (f.start, f.recorded_at, f.id), reverse=query.newest_first
    )
    return [f.id for f in ordered if query.matches(f)][: query.limit]


QUERIES = [
    FactQuery(),
    FactQuery(include_retracted=True),
    FactQuery(current_only=True),
    FactQuery(current_only=True, include_retracted=True),
    FactQuery(subject_id="self"),
    FactQuery(subject_id="bob"),
    FactQuery(subject_id="nobody"),
    FactQuery(predicate="lives_in"),
    FactQuery(predicate="lives_in", include_retracted=True),
    FactQuery(subject_id="self", predicate="lives_in", current_only=True),
    FactQuery(object_id="porto"),
    FactQuery(kinds=("preference",)),
    FactQuery(kinds=("trait", "event")),
    FactQuery(limit=3),
    FactQuery(limit=1, predicate="lives_in"),
    FactQuery(newest_first=True),
    FactQuery(newest_first=True, limit=2),
    FactQuery(newest_first=True, limit=1, subject_id="self", predicate="lives_in"),
    FactQuery(newest_first=True, as_of=days(5.5), include_retracted=True),
    *[
        FactQuery(as_of=days(t), include_retracted=r)
        for t, r in itertools.product([-1, 0, 0.5, 5, 5.5, 6, 9.99, 10, 15, 20, 31], [False, True])
    ],
    FactQuery(as_of=days(5.5), predicate="lives_in"),
    FactQuery(as_of=days(11), subject_id="self", predicate="lives_in"),
    FactQuery(as_of=days(31), kinds=("event",)),
    FactQuery(as_of=days(15), current_only=True),
]


@pytest.fixture
async def loaded(store: GraphStore, sample: Sample) -> list[Fact]:
    facts = timeline(sample)
    await store.apply(WriteSet("alice", facts=facts))
    return facts


def query_id(query: FactQuery) -> str:
    fields = query.model_dump(exclude_defaults=True)
    return ",".join(f"{k}={v}" for k, v in fields.items()) or "all"


@pytest.mark.parametrize("query", QUERIES, ids=[query_id(q) for q in QUERIES])
async def test_find_facts_matches_the_reference_semantics(
    store: GraphStore, loaded: list[Fact], query: FactQuery
) -> None:
    got = await store.find_facts("alice", query)
    assert [f.id for f in got] == reference(loaded, query)
    by_id = {f.id: f for f in loaded}
    assert all(f == by_id[f.id] for f in got)


async def test_as_of_picks_the_value_true_then(store: GraphStore, loaded: list[Fact]) -> None:
    def city(facts: list[Fact]) -> list[str | None]:
        return [f.object_id for f in facts]

    def at(day: float) -> FactQuery:
        return FactQuery(subject_id="self", predicate="lives_in", as_of=days(day))

    assert city(await store.find_facts("alice", at(5))) == ["lisbon"]
    assert city(await store.find_facts("alice", at(10))) == ["porto"]
    assert city(await store.find_facts("alice", at(-1))) == []
    # the retracted Madrid is history of belief only, never "true as of" any time
    assert "madrid" not in city(await store.find_facts("alice", at(5.5)))


async def test_get_by_ids_in_the_order_asked_skipping_missing(
    store: GraphStore, sample: Sample
) -> None:
    for n in (1, 2, 3):
        await store.apply(sample.turn("alice", n, facts=1))
    facts = await store.get_facts("alice", ["f3_0", "nope", "f1_0"])
    assert [f.id for f in facts] == ["f3_0", "f1_0"]
    episodes = await store.get_episodes("alice", ["ep2", "ep9", "ep1"])
    assert [e.id for e in episodes] == ["ep2", "ep1"]
    entities = await store.get_entities("alice", ["place3", "place2", "x"])
    assert [e.id for e in entities] == ["place3", "place2"]
    assert await store.get_facts("alice", []) == []
    assert await store.get_facts("alice", ["missing"]) == []


async def test_find_entities_by_normalised_name_and_alias(
    store: GraphStore, sample: Sample
) -> None:
    ents = [
        sample.entity("alice", "e_zoe", "Zoë Martin", kind="person", aliases=("Zo", "my sister")),
        sample.entity("alice", "e_cafe", "The Blue Café", kind="place"),
        sample.entity("alice", "e_acme", "ACME Corp.", kind="org", aliases=("Acme",)),
    ]
    await store.apply(WriteSet("alice", entities=ents))

    async def ids(*names: str) -> list[str]:
        return [e.id for e in await store.find_entities("alice", names)]

    assert await ids("zoe martin") == ["e_zoe"]
    assert await ids("  ZOË   MARTIN ") == ["e_zoe"]
    assert await ids("sister") == ["e_zoe"]  # "my sister" normalises to "sister"
    assert await ids("blue cafe") == ["e_cafe"]
    assert await ids("acme") == ["e_acme"]
    assert await ids("acme corp") == ["e_acme"]
    assert sorted(await ids("zo", "acme")) == ["e_acme", "e_zoe"]
    assert await ids("martin") == []
    assert await ids("") == []
    assert [e.id for e in await store.list_entities("alice")] == ["e_acme", "e_cafe", "e_zoe"]
    assert [e.id for e in await store.list_entities("alice", limit=1)] == ["e_acme"]


async def test_episodes_in_session_are_the_latest_oldest_first(
    store: GraphStore, sample: Sample
) -> None:
    eps = [sample.episode("alice", f"ep{n}", f"message {n}", day=n) for n in range(6)]
    eps.append(sample.episode("alice", "other", "elsewhere", day=2, session="s2"))
    eps.append(sample.episode("alice", "loose", "no session", day=1, session=None))
    await store.apply(WriteSet("alice", episodes=eps))
    got = await store.episodes_in_session("alice", "s1", limit=3)
    assert [e.id for e in got] == ["ep3", "ep4", "ep5"]
    assert [e.id for e in await store.episodes_in_session("alice", "s2")] == ["other"]
    assert [e.id for e in await store.episodes_in_session("alice", None)] == ["loose"]
    assert await store.episodes_in_session("alice", "s9") == []


async def test_episodes_around_are_the_neighbours_in_session_order(
    store: GraphStore, sample: Sample
) -> None:
    eps = [sample.episode("alice", f"ep{n}", f"message {n}", day=n) for n in range(6)]
    # Same time as ep2: the id orders them (ep2 < ep2b).
    eps.append(sample.episode("alice", "ep2b", "same moment", day=2))
    eps.append(sample.episode("alice", "other", "elsewhere", day=2, session="s2"))
    eps.append(sample.episode("alice", "loose", "no session", day=1, session=None))
    eps.append(sample.episode("bob", "ep9", "not alice's", day=3))
    await store.apply(WriteSet("alice", episodes=[e for e in eps if e.user_id == "alice"]))
    await store.apply(WriteSet("bob", episodes=[e for e in eps if e.user_id == "bob"]))
    asked = ["ep0", "ep2b", "ep5", "other", "loose", "ep9", "nope"]
    got = await store.episodes_around("alice", asked, 2, 2)
    assert {k: [e.id for e in v] for k, v in got.items()} == {
        "ep0": ["ep0", "ep1", "ep2"],
        "ep2b": ["ep1", "ep2", "ep2b", "ep3", "ep4"],
        "ep5": ["ep3", "ep4", "ep5"],
        "other": ["other"],
    }
    # A backend's own version answers as the port's default does.
    default = await GraphStore.episodes_around(store, "alice", asked, 1, 0)
    assert {k: [e.id for e in v] for k, v in default.items()} == {
        k: [e.id for e in v] for k, v in (await store.episodes_around("alice", asked, 1, 0)).items()
    }
    assert await store.episodes_around("alice", [], 2, 2) == {}


def small_graph(s: Sample, user: str) -> list[Fact]:
    return [
        s.fact(user, "n_lives", "lives in Paris", predicate="lives_in", obj="paris"),
        s.fact(
            user,
            "n_lived",
            "lived in Paris before",
            predicate="lives_in",
            obj="paris",
            valid=0,
            invalid=1,
            expired=1,
        ),
        s.fact(
            user,
            "n_paris_fr",
            "Paris is in France",
            subject="paris",
            predicate="located_in",
            obj="france",
        ),
        s.fact(
            user,
            "n_fr_eu",
            "France is in Europe",
            subject="france",
            predicate="part_of",
            obj="europe",
        ),
        s.fact(user, "n_works", "works at Acme", predicate="works_at", obj="acme"),
        s.fact(
            user,
            "n_acme_berlin",
            "Acme is in Berlin",
            subject="acme",
            predicate="located_in",
            obj="berlin",
        ),
        s.fact(user, "n_name", "is called Sam", predicate="name", value="Sam"),
        s.fact(
            user,
            "n_far",
            "Berlin is in Germany",
            subject="berlin",
            predicate="located_in",
            obj="germany",
        ),
    ]


async def test_neighbourhood_one_and_two_hops(store: GraphStore, sample: Sample) -> None:
    await store.apply(WriteSet("alice", facts=small_graph(sample, "alice")))

    async def ids(seeds: list[str], hops: int, limit: int = 200) -> set[str]:
        return {f.id for f in await store.neighbourhood("alice", seeds, hops=hops, limit=limit)}

    assert await ids(["paris"], 1) == {"n_lives", "n_lived", "n_paris_fr"}
    assert await ids(["paris"], 2) == {
        "n_lives",
        "n_lived",
        "n_paris_fr",
        "n_fr_eu",
        "n_works",
        "n_name",
    }
    assert await ids(["acme", "europe"], 1) == {"n_works", "n_acme_berlin", "n_fr_eu"}
    assert await ids(["nowhere"], 2) == set()
    assert len(await ids(["paris"], 2, limit=2)) == 2
    facts = await store.neighbourhood("alice", ["paris"], hops=2)
    assert len(facts) == len({f.id for f in facts})  # no duplicates


async def test_users_and_counts(store: GraphStore, sample: Sample) -> None:
    assert await store.users() == []
    assert await store.counts() == {"episodes": 0, "entities": 0, "facts": 0}
    await store.apply(sample.turn("bob", 1, facts=2))
    await store.apply(sample.turn("alice", 1, facts=3))
    await store.apply(sample.turn("alice", 2, facts=3))
    await store.apply(WriteSet("carol", episodes=[sample.episode("carol", "ep1", "hi")]))
    assert await store.users() == ["alice", "bob", "carol"]
    assert await store.counts("alice") == {"episodes": 2, "entities": 2, "facts": 6}
    assert await store.counts("bob") == {"episodes": 1, "entities": 1, "facts": 2}
    assert await store.counts() == {"episodes": 4, "entities": 3, "facts": 8}
    assert await store.counts("nobody") == {"episodes": 0, "entities": 0, "facts": 0}
