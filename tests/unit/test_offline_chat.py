"""The offline model on chat as people type it (issue 11, item 6): correct before complete.

Each case was wrong on the rules before this change: a damaging reading (a name from a
greeting, an age from a figure of speech, studying stored as working, filler inside a value,
a month said of the future dated into the past, a lowercase name "corrected" into a word) or
a plain miss of chat spelling (contractions without apostrophes, typos, lowercase names and
employers, shouting, a "she" that can only mean one person).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from memlane.llm.offline.provider import LABEL, answer
from memlane.llm.offline.rules.dates import find_date
from memlane.llm.offline.rules.normalise import fix_typos, spell_out
from memlane.memory_graph.predicates import default_registry
from memlane.prompts import extract_memory as em
from memlane.prompts import respond as rp

pytestmark = pytest.mark.unit

NOW = datetime(2024, 3, 15, 10, 0, tzinfo=UTC)  # a Friday
U, P, N = "user", "positive", "negative"


def _facts(text: str) -> set[tuple]:
    data = em.ExtractionInput(
        user_name="Sam",
        turn_time=NOW,
        new_turns=[em.Turn(content=text, at=NOW)],
        candidates=[],
        predicates=em.ExtractionInput.predicate_lines(default_registry()),
    )
    out = json.loads(answer(em.build_messages(data)))
    em.ExtractionOutput.model_validate(out, context=em.validation_context(data, default_registry()))
    return {
        (f["subject"], f["predicate"], f["object"], f["polarity"], f["valid_at"])
        for f in out["facts"]
    }


# -- readings that did damage ------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Hi, I'm Tired.",  # a greeting and an adjective
        "Hey! I'm Starving.",
        "Hello, I'm Back.",
        "Done here.",  # "X here" with a word, not a name
    ],
)
def test_a_word_after_a_greeting_is_no_name(text: str) -> None:
    assert not {f for f in _facts(text) if f[1] == "name"}


def test_a_real_name_after_a_greeting_still_counts() -> None:
    assert (U, "name", "Emma", P, None) in _facts("Hi! I'm Emma.")


@pytest.mark.parametrize(
    "text",
    [
        "my back thinks I'm 90.",
        "my nephew says I'm 100.",
        "explain self assessment like im 5",
    ],
)
def test_figures_of_speech_are_no_age(text: str) -> None:
    assert not {f for f in _facts(text) if f[1] == "age"}


def test_studying_somewhere_is_not_working_there() -> None:
    facts = _facts("I started at TUM in october for my masters")
    assert (U, "studies_at", "TUM", P, "2023-10-01") in facts
    assert not {f for f in facts if f[1] == "works_at"}
    assert _facts("I'm at Stanford now for my PhD, the job market can wait") == {
        (U, "studies_at", "Stanford", P, None)
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("i love hiking lol", "hiking"),
        ("I love sushi tbh 😂", "sushi"),
        ("I'm allergic to cats lol", "cats"),
    ],
)
def test_chat_filler_and_emoji_are_not_part_of_a_value(text: str, value: str) -> None:
    assert {f[2] for f in _facts(text)} == {value}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from July I'm head chef", "2024-07-01"),
        ("I start Sept 11", "2024-09-11"),
        ("the baby is due in August", "2024-08-01"),
        ("we moved in May", "2023-05-01"),  # the past stays the past
        ("since May I live here", "2023-05-01"),
    ],
)
def test_months_said_of_what_is_to_come_resolve_ahead(text: str, expected: str) -> None:
    hit = find_date(text, NOW)
    assert hit is not None and hit.when.date().isoformat() == expected


def test_a_role_starting_in_a_future_month_is_dated_ahead() -> None:
    assert _facts("from july i am head chef") == {(U, "job_title", "head chef", P, "2024-07-01")}


def test_a_lowercase_name_is_not_corrected_into_a_word() -> None:
    facts = _facts("my husband greg is a plumber, he works at lowe plumbing in town")
    assert facts == {
        (U, "partner", "Greg", P, None),
        ("Greg", "job_title", "plumber", P, None),
        ("Greg", "works_at", "Lowe Plumbing", P, None),
    }


# -- chat as typed -----------------------------------------------------------------------------
def test_spelling_out_chat() -> None:
    assert spell_out("im vegetarian, ive been for 2 yrs and u know it") == (
        "I'm vegetarian, I've been for 2 years and you know it"
    )
    assert spell_out("MY BROTHER JAKE GOT MARRIED!!!") == "my brother jake got married!!!"
    assert fix_typos("I jsut moevd to leeds", frozenset({"just", "moved"})) == (
        "I just moved to leeds"
    )
    assert fix_typos("drivin to work", frozenset()) == "driving to work"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i jsut moevd to leeds lol", {(U, "lives_in", "Leeds", P, "2024-03-15")}),
        ("im livng in oslo now", {(U, "lives_in", "Oslo", P, None)}),
        ("im vegetarian", {(U, "diet", "vegetarian", P, None)}),
        ("i start keto diet from today", {(U, "diet", "keto", P, "2024-03-15")}),
        ("I am shift manager in Brno",
         {(U, "job_title", "shift manager", P, None), (U, "lives_in", "Brno", P, None)}),
        ("i work at blue harbor logistics now",
         {(U, "works_at", "Blue Harbor Logistics", P, None)}),
        ("i work at home most days", set()),
        ("i work for myself", set()),
        ("MY BROTHER JAKE GOT MARRIED!!!", {(U, "has_sibling", "Jake", P, None)}),
        ("my sister tamara lives in houston",
         {(U, "has_sibling", "Tamara", P, None), ("Tamara", "lives_in", "Houston", P, None)}),
        ("our cat mochi is 3 now",
         {(U, "has_pet", "Mochi", P, None), ("Mochi", "age", "3", P, None)}),
    ],
)  # fmt: skip
def test_chat_as_typed(text: str, expected: set[tuple]) -> None:
    assert _facts(text) == expected


def test_she_is_the_one_person_the_message_names() -> None:
    facts = _facts("My mother Halina has her birthday on saturday. she lives alone in Opole")
    assert ("Halina", "lives_in", "Opole", P, None) in facts


def test_a_pronoun_with_an_unnamed_role_in_between_is_left_alone() -> None:
    # "he" is the boss (no name), not the sister Marta: nothing is said about anyone's home.
    facts = _facts("my sister Marta came over. my boss called, he lives in Oslo")
    assert not {f for f in facts if f[1] == "lives_in"}


def test_replies_are_still_labelled() -> None:
    data = rp.RespondInput(user_name="Sam", memory="", now=NOW, message="im livng in oslo now")
    assert answer(rp.build_messages(data)).startswith(LABEL)


def test_a_pet_the_memory_holds_that_died_is_no_longer_the_users() -> None:
    from memlane.llm.offline.rules.patterns import extract, parse_extraction_prompt

    data = em.ExtractionInput(
        user_name="Sam",
        turn_time=NOW,
        new_turns=[em.Turn(content="tucker passed last nite, 13 yrs", at=NOW)],
        candidates=[
            em.CandidateFact(
                short_id="F1", subject="user", predicate="has_pet", object="Tucker", statement="s"
            )
        ],
        predicates=em.ExtractionInput.predicate_lines(default_registry()),
    )
    system, user = (m["content"] for m in em.build_messages(data))
    facts = extract(parse_extraction_prompt(system, user))["facts"]
    assert [(f["predicate"], f["object"], f["polarity"], f["valid_at"]) for f in facts] == [
        ("has_pet", "Tucker", "negative", "2024-03-14")
    ]
    assert facts[0]["contradicts"] == ["F1"]


def test_an_aside_in_another_clause_is_no_job_title() -> None:
    text = "My sister Léa just started medical school, what can I send her as a care package?"
    assert not {f for f in _facts(text) if f[1] == "job_title"}
    assert (U, "job_title", "junior developer", P, "2024-03-15") in _facts(
        "I started there as a junior developer"
    )


def test_a_resolved_pronoun_keeps_its_clause() -> None:
    # "and she's visiting in April" stays its own clause: April does not date where she lives.
    facts = _facts("my sister anjali lives in toronto and she's visiting in april")
    assert ("Anjali", "lives_in", "Toronto", P, None) in facts


def test_endings_keep_their_object_and_fondness_is_no_taste() -> None:
    assert _facts("I stopped drinking alcohol two months ago") == {
        (U, "hobby", "drinking alcohol", N, "2024-01-15")
    }
    assert _facts("i actually love my unit") == set()  # what is theirs, not a taste


def test_a_lowercase_city_after_my_flat_in() -> None:
    assert _facts("the heating in my flat in york is broken again") == {
        (U, "lives_in", "York", P, None)
    }


def test_a_contraction_is_no_typo() -> None:
    assert fix_typos("and we're together now", frozenset({"were"})) == "and we're together now"
