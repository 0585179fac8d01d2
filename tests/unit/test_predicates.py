"""The predicate registry: canonical names, synonyms, antonyms, and extending it."""

from __future__ import annotations

import pytest

from memlane.agent.bootstrap import make_registry
from memlane.agent.settings import Settings
from memlane.memory_graph.errors import InputError, UnknownPredicateError
from memlane.memory_graph.predicates import default_registry

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("said", "polarity", "stored", "stored_polarity"),
    [
        ("likes", "positive", "likes", "positive"),
        ("loves", "positive", "likes", "positive"),  # a synonym
        ("dislikes", "positive", "likes", "negative"),  # an antonym
        ("hates", "positive", "likes", "negative"),  # a synonym of an antonym
        ("Dislikes", "negative", "likes", "positive"),  # "no longer dislikes" = likes
        ("moved_to", "negative", "lives_in", "negative"),
    ],
)
def test_resolve_gives_the_canonical_predicate_and_polarity(
    said: str, polarity: str, stored: str, stored_polarity: str
) -> None:
    meaning = default_registry().resolve(said)
    assert meaning.spec.name == stored
    assert meaning.polarity(polarity) == stored_polarity  # type: ignore[arg-type]


def test_canonical_keeps_an_antonym_so_its_polarity_is_not_lost() -> None:
    reg = default_registry()
    # What an extraction model's predicate is validated to: a synonym becomes its predicate,
    # an antonym stays itself (the reconciler flips it); the draft still says what was meant.
    assert reg.canonical("hates") == "dislikes"
    assert reg.canonical("dislikes") == "dislikes"
    assert reg.canonical("enjoys") == "likes"
    with pytest.raises(UnknownPredicateError, match="dislikes"):
        reg.canonical("juggles")


def test_describe_lists_antonyms_as_accepted_input() -> None:
    described = {s.name: s for s in default_registry().describe()}
    assert described["dislikes"].negates == "likes"
    assert described["dislikes"].description == "something the subject dislikes"
    assert described["likes"].negates is None
    assert "hates" not in described  # synonyms are not listed


def test_antonyms_from_settings() -> None:
    reg = make_registry(
        Settings(
            predicate_antonyms={"avoids": "likes", "distrusts": "trusts"},
            multi_valued_predicates=["trusts"],
            predicate_synonyms={"shuns": "avoids"},
        )
    )
    assert reg.resolve("avoids").spec.name == "likes" and reg.resolve("avoids").negated
    assert reg.resolve("shuns").negated
    assert reg.resolve("distrusts").spec.name == "trusts"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"antonyms": {"avoids": "juggles"}}, "negates unknown predicate"),
        ({"antonyms": {"lives_in": "likes"}}, "already a predicate"),
        ({"multi_valued": ["dislikes"]}, "cannot also be a predicate"),
        ({"synonyms": {"detests": "juggles"}}, "points to unknown predicate"),
    ],
)
def test_extend_rejects_contradictory_names(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        default_registry().extend(**kwargs)  # type: ignore[arg-type]


def test_an_antonym_replaces_a_synonym_of_the_same_name() -> None:
    reg = default_registry().extend(synonyms={"avoids": "likes"})
    assert not reg.resolve("avoids").negated
    reg.extend(antonyms={"avoids": "likes"})
    assert reg.resolve("avoids").negated
