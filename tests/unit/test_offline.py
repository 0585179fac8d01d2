"""The offline model: date resolution, extraction patterns, linking, replies, LiteLLM wiring."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import litellm
import pytest

from agent.offline import LABEL, OFFLINE_MODEL, register
from agent.offline_dates import find_date, strip_dates
from memory_graph.predicates import default_registry
from prompts import extract_memory as em
from prompts import respond as rp

pytestmark = pytest.mark.unit

NOW = datetime(2024, 3, 15, 10, 0, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("text", "future", "expected"),
    [
        ("I moved last month", False, "2024-02-01"),
        ("two years ago", False, "2022-03-15"),
        ("3 days ago", False, "2024-03-12"),
        ("next Friday", True, "2024-03-22"),
        ("last Friday", False, "2024-03-08"),
        ("in 2019", False, "2019-01-01"),
        ("back in March", False, "2024-03-01"),
        ("in May", True, "2024-05-01"),
        ("in May", False, "2023-05-01"),
        ("on May 3rd, 2020", False, "2020-05-03"),
        ("in two weeks", True, "2024-03-29"),
        ("yesterday", False, "2024-03-14"),
        ("last year", False, "2023-01-01"),
    ],
)
def test_dates_resolve_against_the_turn_time(text: str, future: bool, expected: str) -> None:
    hit = find_date(text, NOW, future=future)
    assert hit is not None and hit.when.date().isoformat() == expected


def test_no_date_and_stripping() -> None:
    assert find_date("I may go", NOW) is None
    assert strip_dates("Berlin last month") == "Berlin"


def _extract(text: str, candidates: list[em.CandidateFact] = ()) -> list[dict]:  # type: ignore[assignment]
    from agent.offline import answer

    data = em.ExtractionInput(
        user_name="Maya",
        turn_time=NOW,
        new_turns=[em.Turn(content=text, at=NOW)],
        candidates=list(candidates),
        predicates=em.ExtractionInput.predicate_lines(default_registry()),
    )
    out = json.loads(answer(em.build_messages(data)))
    em.ExtractionOutput.model_validate(out, context=em.validation_context(data, default_registry()))
    return out["facts"]


def _triples(facts: list[dict]) -> set[tuple]:
    return {(f["predicate"], f["object"], f["polarity"], f["valid_at"]) for f in facts}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My name is Maya.", {("name", "Maya", "positive", None)}),
        ("I'm 34 years old.", {("age", "34", "positive", None)}),
        ("I live in New York.", {("lives_in", "New York", "positive", None)}),
        ("I moved to Berlin last month!", {("lives_in", "Berlin", "positive", "2024-02-01")}),
        ("We relocated to San Francisco in 2019.",
         {("lives_in", "San Francisco", "positive", "2019-01-01")}),
        ("I work at Bank of America.", {("works_at", "Bank of America", "positive", None)}),
        ("I joined Stripe two years ago.", {("works_at", "Stripe", "positive", "2022-03-15")}),
        ("I left Acme Corp yesterday.", {("works_at", "Acme Corp", "negative", "2024-03-14")}),
        ("I'm a software engineer.", {("job_title", "software engineer", "positive", None)}),
        ("My wife Anna is great.", {("partner", "Anna", "positive", None)}),
        ("My daughter is named Lily.", {("has_child", "Lily", "positive", None)}),
        ("We have two kids, Leo and Mia.",
         {("has_child", "Leo", "positive", None), ("has_child", "Mia", "positive", None)}),
        ("I adopted a cat named Miso last week.", {("has_pet", "Miso", "positive", "2024-03-08")}),
        ("I'm vegetarian.", {("diet", "vegetarian", "positive", None)}),
        ("I'm allergic to peanuts and shellfish.",
         {("allergic_to", "peanuts", "positive", None),
          ("allergic_to", "shellfish", "positive", None)}),
        ("I love hiking.", {("likes", "hiking", "positive", None)}),
        ("I don't like coffee anymore.", {("likes", "coffee", "negative", "2024-03-15")}),
        ("I hate traffic.", {("dislikes", "traffic", "positive", None)}),
        ("I've taken up pottery.", {("hobby", "pottery", "positive", "2024-03-15")}),
        ("I'm flying to Tokyo next Friday.",
         {("plans", "flying to Tokyo", "positive", "2024-03-22")}),
        ("How are you today?", set()),
        ("I'd like a coffee.", set()),
    ],
)  # fmt: skip
def test_patterns(text: str, expected: set[tuple]) -> None:
    assert _triples(_extract(text)) == expected


def test_links_contradictions_and_restatements_by_short_id() -> None:
    cands = [
        em.CandidateFact(short_id="F1", subject="user", predicate="lives_in", object="Lisbon",
                         statement="s", valid_at=datetime(2021, 1, 1, tzinfo=UTC)),
        em.CandidateFact(short_id="F2", subject="user", predicate="likes", object="sushi",
                         statement="s"),
    ]  # fmt: skip
    (moved,) = _extract("I moved to Berlin last month.", cands)
    assert moved["contradicts"] == ["F1"] and moved["restates"] == []
    (again,) = _extract("I live in Lisbon.", cands)
    assert again["restates"] == ["F1"]
    (unlike,) = _extract("I don't like sushi anymore.", cands)
    assert unlike["contradicts"] == ["F2"]


def test_old_story_is_history_not_the_current_home() -> None:
    cands = [
        em.CandidateFact(short_id="F1", subject="user", predicate="lives_in", object="Berlin",
                         statement="s", valid_at=datetime(2023, 8, 1, tzinfo=UTC)),
    ]  # fmt: skip
    (story,) = [f for f in _extract("Back when I lived in Lisbon, it was sunny.", cands)]
    assert story["object"] == "Lisbon" and story["contradicts"] == []
    assert story["invalid_at"] == "2023-08-01"  # ended when Berlin began


def test_reply_is_labelled_and_states_memory() -> None:
    from agent.offline import answer

    messages = rp.build_messages(
        rp.RespondInput(now=NOW, memory="- Maya lives in Berlin.", message="Where do I live?")
    )
    reply = answer(messages)
    assert reply.startswith(LABEL) and "Berlin" in reply
    assert answer(rp.build_messages(rp.RespondInput(now=NOW, message="hi"))).startswith(LABEL)


async def test_goes_through_litellm() -> None:
    register()
    messages = [{"role": "user", "content": "hello"}]
    response = await litellm.acompletion(model=OFFLINE_MODEL, messages=messages)
    assert response.choices[0].message.content.startswith(LABEL)
    assert response.usage.prompt_tokens > 0
    stream = await litellm.acompletion(model=OFFLINE_MODEL, messages=messages, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text.startswith(LABEL)
