"""The offline model reads corrections as retractions of the wrong fact (issue 11).

Sentences here were written for this test, not taken from the dialogues set.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from memlane.memory_graph.predicates import default_registry
from memlane.prompts import extract_memory as em

pytestmark = pytest.mark.unit

NOW = datetime(2024, 3, 15, 12, 0, tzinfo=UTC)


def _cand(short_id: str, subject: str, predicate: str, obj: str) -> em.CandidateFact:
    return em.CandidateFact(
        short_id=short_id,
        subject=subject,
        predicate=predicate,
        object=obj,
        statement=f"{subject} {predicate} {obj}",
        valid_at="2024-01-01",
        invalid_at=None,
    )


def _extract(text: str, candidates: list[em.CandidateFact]) -> list[dict]:
    from memlane.llm.offline.provider import answer

    data = em.ExtractionInput(
        user_name="Sam",
        turn_time=NOW,
        new_turns=[em.Turn(content=text, at=NOW)],
        candidates=candidates,
        predicates=em.ExtractionInput.predicate_lines(default_registry()),
    )
    out = json.loads(answer(em.build_messages(data)))
    em.ExtractionOutput.model_validate(out, context=em.validation_context(data, default_registry()))
    return out["facts"]


@pytest.mark.parametrize(
    ("text", "subject", "predicate", "wrong", "right"),
    [
        ("sorry, I meant Leipzig, not Dresden", "user", "lives_in", "Dresden", "Leipzig"),
        ("oops typo, it's Gothenburg not Gotenburg", "user", "lives_in", "Gotenburg", "Gothenburg"),
        ("Actually Ferrocorp, not Ferrotec, my bad", "user", "works_at", "Ferrotec", "Ferrocorp"),
        ("sorry, not Tarbes, my aunt Odile lives in Pau", "Odile", "lives_in", "Tarbes", "Pau"),
    ],
)
def test_a_correction_names_the_wrong_fact(
    text: str, subject: str, predicate: str, wrong: str, right: str
) -> None:
    facts = _extract(text, [_cand("F1", subject, predicate, wrong)])
    fixed = [f for f in facts if "F1" in f.get("corrects", [])]
    assert len(fixed) == 1, facts
    assert fixed[0]["object"] == right and fixed[0]["predicate"] == predicate
    assert "F1" not in fixed[0]["contradicts"]


def test_not_without_a_known_wrong_value_corrects_nothing() -> None:
    facts = _extract("sorry, not today, I'm busy", [_cand("F1", "user", "lives_in", "Lyon")])
    assert all(not f.get("corrects") for f in facts)


@pytest.mark.parametrize(
    "text",
    [
        "Nobody here gets it, honestly.",
        "Everyone here is so tired today",
        "can you explain it like I'm 10",
        "talk to me as if I am 5 please",
    ],
)
def test_greetings_and_figures_of_speech_state_no_identity(text: str) -> None:
    facts = _extract(text, [])
    assert not [f for f in facts if f["predicate"] in ("name", "age")], facts


@pytest.mark.parametrize(
    ("text", "candidates", "expected"),
    [
        ("finally unpacked in Tartu, boxes everywhere", [], ("lives_in", "Tartu", "positive")),
        ("i live in leeds with two flatmates", [], ("lives_in", "Leeds", "positive")),
        ("we took in a tabby named Pickle", [], ("has_pet", "Pickle", "positive")),
        ("three weeks into the new job at Norrsken", [], ("works_at", "Norrsken", "positive")),
        ("done with keto, it was miserable", [], ("diet", "keto", "negative")),
        ("i stopped climbing after the knee thing", [], ("hobby", "climbing", "negative")),
        (
            "handed in my notice today",
            [_cand("F1", "user", "works_at", "Ferrotec")],
            ("plans", "leave Ferrotec", "positive"),
        ),
    ],
)
def test_phrasings_of_change(text: str, candidates: list, expected: tuple) -> None:
    facts = _extract(text, candidates)
    assert expected in {(f["predicate"], f["object"], f["polarity"]) for f in facts}, facts


def test_leaving_a_job_ends_it_at_the_told_day() -> None:
    facts = _extract(
        "my last shift at Ferrotec is on friday", [_cand("F1", "user", "works_at", "Ferrotec")]
    )
    (ending,) = [f for f in facts if f["predicate"] == "works_at"]
    assert ending["invalid_at"] == "2024-03-15" or ending["invalid_at"] > "2024-03-15"


def test_a_lowercase_word_is_not_a_place_out_of_place_context() -> None:
    assert not _extract("that was a nice reading of the room", [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we got a kitten! her name is Mochi", {("has_pet", "Mochi")}),
        ("my new boyfriend is sweet, his name is joost", {("partner", "Joost")}),
        ("my cat named biscuit is evil", {("has_pet", "Biscuit")}),
        ("my sister's dog is cute, his name is Rex", set()),  # not the user's dog
        ("his name is Otto and he is lovely", set()),  # whose? nothing said
    ],
)
def test_names_given_by_pronouns_and_in_lowercase(text: str, expected: set) -> None:
    facts = _extract(text, [])
    got = {(f["predicate"], f["object"]) for f in facts if f["predicate"] in ("has_pet", "partner")}
    assert got == expected, facts
