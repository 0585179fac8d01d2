"""Questions asked about the user by someone else ("where does she work?", "how old is
Oskar?"): the user is the question's subject, so their facts of the predicate it names rank
first, above other people's facts of the same predicate; "his sister" walks to the sister
even when she was stored by name as a value; "what does X do" asks for an occupation.

The story and the questions were written after the ranking code, not tuned against it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store
from tests.tools_support.seed import StepClock
from tests.tools_support.story import commit_story, day

pytestmark = pytest.mark.unit

U = "oskar"

# (day, message, [(subject, predicate, value, statement, valid_at, invalid_at)])
STORY = [
    ("2021-02-01", "Moi! Oskar here, 29, pharmacist in Helsinki.", [
        ("user", "name", "Oskar", "The user's name is Oskar", None, None),
        ("user", "age", "29", "Oskar is 29", None, None),
        ("user", "job_title", "pharmacist", "Oskar works as a pharmacist", None, None),
        ("user", "lives_in", "Helsinki", "Oskar lives in Helsinki", None, "2022-05-01"),
    ]),
    ("2021-09-12", "My friend Jussi is 31, a carpenter up in Oulu.", [
        ("user", "friend_of", "Jussi", "Jussi is Oskar's friend", None, None),
        ("Jussi", "age", "31", "Jussi is 31", None, None),
        ("Jussi", "job_title", "carpenter", "Jussi works as a carpenter", None, None),
        ("Jussi", "lives_in", "Oulu", "Jussi lives in Oulu", None, None),
    ]),
    ("2022-05-03", "We moved to Tampere, and my sister Liisa lives in Turku.", [
        ("user", "lives_in", "Tampere", "Oskar lives in Tampere", "2022-05-01", None),
        ("user", "has_sibling", "Liisa", "Liisa is Oskar's sister", None, None),
        ("Liisa", "lives_in", "Turku", "Liisa lives in Turku", None, None),
    ]),
    ("2023-03-18", "Got a dog, Rusko. Mira and I are dating now.", [
        ("user", "has_pet", "Rusko", "Oskar has a dog named Rusko", None, None),
        ("user", "partner", "Mira", "Oskar is dating Mira", None, None),
        ("Mira", "job_title", "nurse", "Mira works as a nurse", None, None),
    ]),
]  # fmt: skip

# (question, as_of) -> the statement of the fact that answers it
QUESTIONS: dict[tuple[str, str | None], str] = {
    ("Where does Oskar live?", None): "Oskar lives in Tampere",
    ("How old is he?", None): "Oskar is 29",
    ("Where does his sister live?", None): "Liisa lives in Turku",
    ("What does Jussi do?", None): "Jussi works as a carpenter",
    ("What does he do for a living?", None): "Oskar works as a pharmacist",
    ("Where was he living then?", "2021-06-01"): "Oskar lives in Helsinki",
    ("Who is he dating?", None): "Oskar is dating Mira",
    ("What's his dog called?", None): "Oskar has a dog named Rusko",
}


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    async with open_store(f"sqlite:///{tmp_path / 'third.db'}") as store:
        mem = Memory(store, HashEmbedder(), clock=StepClock(datetime(2024, 1, 1, tzinfo=UTC)))
        story = [
            (d, text, [(subj, pred, value, "value", *rest) for subj, pred, value, *rest in facts])
            for d, text, facts in STORY
        ]
        await commit_story(mem, U, story)
        yield mem


@pytest.mark.parametrize(("question", "as_of"), list(QUESTIONS))
async def test_the_answering_fact_ranks_first(
    memory: Memory, question: str, as_of: str | None
) -> None:
    ctx = await memory.recall(U, question, as_of=day(as_of))
    ranked = [cf.fact.statement for cf in ctx.ranked_facts()]
    assert ranked and ranked[0] == QUESTIONS[(question, as_of)], ranked[:3]


async def test_a_pronoun_with_a_person_named_is_not_the_user(memory: Memory) -> None:
    # "her" is Mira here, not Oskar: the named person is the subject.
    ctx = await memory.recall(U, "What does Mira do, and where did she study?")
    assert ctx.ranked_facts()[0].fact.statement == "Mira works as a nurse"
