"""With the right facts in memory (gold facts committed from a short life story), the fact
that answers a question ranks first, or at least is in the context; the user's identity sits
in the profile header, outside the ranked slots; an ended job with no successor still
answers "what did I do for work?".

The story and questions were written after the ranking code, not tuned against it.
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
from tests.tools_support.story import commit_story

pytestmark = pytest.mark.unit

# (day, message, [(predicate, object, object_kind, statement, valid_at, invalid_at)])
STORY = [
    ("2022-01-05", "Hi, I'm Priya, I'm 34 and I live in Leeds.", [
        ("name", "Priya", "value", "The user's name is Priya", None, None),
        ("age", "34", "value", "The user is 34 years old", None, None),
        ("lives_in", "Leeds", "place", "The user lives in Leeds", None, None),
    ]),
    ("2022-02-10", "I work as a nurse at St James hospital.", [
        ("job_title", "nurse", "value", "The user works as a nurse", None, None),
        ("works_at", "St James Hospital", "org", "The user works at St James Hospital",
         None, "2023-06-30"),
    ]),
    ("2022-03-01", "My sister Asha lives in Bristol.", [
        ("has_sibling", "Asha", "person", "Asha is the user's sister", None, None),
    ]),
    ("2022-04-12", "We adopted a cat called Mochi.", [
        ("has_pet", "Mochi", "pet", "The user has a cat named Mochi", None, None),
    ]),
    ("2022-05-20", "I'm vegetarian these days.", [
        ("diet", "vegetarian", "value", "The user is vegetarian", None, None),
    ]),
    ("2022-07-02", "I love bouldering and sourdough baking.", [
        ("likes", "bouldering", "value", "The user loves bouldering", None, None),
        ("likes", "sourdough baking", "value", "The user loves sourdough baking", None, None),
    ]),
    ("2023-03-15", "I'm allergic to peanuts, by the way.", [
        ("allergic_to", "peanuts", "value", "The user is allergic to peanuts", None, None),
    ]),
    ("2023-09-01", "We moved to Manchester last month.", [
        ("lives_in", "Manchester", "place", "The user lives in Manchester", "2023-08-01", None),
    ]),
    ("2023-10-10", "I'm learning Portuguese for a trip to Lisbon next spring.", [
        ("speaks", "Portuguese", "value", "The user is learning Portuguese", None, None),
        ("plans", "trip to Lisbon", "value", "The user plans a trip to Lisbon next spring",
         None, None),
    ]),
]  # fmt: skip

# question -> the statement of the fact that answers it (a tuple: any of them)
QUESTIONS: dict[str, str | tuple[str, ...]] = {
    "Where do I live now?": "The user lives in Manchester",
    "Where did I live before?": "The user lives in Leeds",
    "What did I do for work?": ("The user works as a nurse", "The user works at St James Hospital"),
    "Where did I work?": "The user works at St James Hospital",
    "Who is my sister?": "Asha is the user's sister",
    "What is my cat called?": "The user has a cat named Mochi",
    "Do I have any pets?": "The user has a cat named Mochi",
    "What's my diet?": "The user is vegetarian",
    "Am I allergic to anything?": "The user is allergic to peanuts",
    "What are my hobbies?": ("The user loves bouldering", "The user loves sourdough baking"),
    "Do I bake?": "The user loves sourdough baking",
    "Which language am I learning?": "The user is learning Portuguese",
    "What trip am I planning?": "The user plans a trip to Lisbon next spring",
    "How old am I?": "The user is 34 years old",
    "What is my name?": "The user's name is Priya",
}


@pytest.fixture
async def memory(tmp_path: Path) -> AsyncIterator[Memory]:
    async with open_store(f"sqlite:///{tmp_path / 'gold.db'}") as store:
        mem = Memory(store, HashEmbedder(), clock=StepClock(datetime(2024, 1, 1, tzinfo=UTC)))
        story = [(d, text, [("user", *f) for f in facts]) for d, text, facts in STORY]
        await commit_story(mem, "priya", story)
        yield mem


async def test_the_answering_fact_ranks_first_and_is_always_in_the_context(
    memory: Memory,
) -> None:
    first, shown, misses = 0, 0, []
    for question, gold in QUESTIONS.items():
        answers = (gold,) if isinstance(gold, str) else gold
        ctx = await memory.recall("priya", question)
        ranked = [cf.fact.statement for cf in [*ctx.facts, *ctx.superseded]]
        header = [cf.fact.statement for cf in ctx.profile]
        first += bool(ranked) and ranked[0] in answers
        shown += any(a in ranked or a in header for a in answers)
        if not ranked or ranked[0] not in answers:
            misses.append((question, ranked[:2]))
    n = len(QUESTIONS)
    assert shown / n >= 0.95, misses
    assert first / n >= 0.70, misses


async def test_the_profile_header_holds_who_the_user_is_outside_the_ranked_slots(
    memory: Memory,
) -> None:
    ctx = await memory.recall("priya", "Do I have any pets?")
    assert [cf.fact.predicate for cf in ctx.profile] == ["name", "age", "lives_in", "job_title"]
    assert ctx.text.startswith("About the user:\n")
    assert "The user's name is Priya" not in [cf.fact.statement for cf in ctx.facts]
    assert ctx.facts[0].fact.statement == "The user has a cat named Mochi"


async def test_an_ended_job_with_no_successor_answers_a_question_about_work(
    memory: Memory,
) -> None:
    ctx = await memory.recall("priya", "Where do I work?")
    statements = [cf.fact.statement for cf in [*ctx.facts, *ctx.superseded]]
    assert "The user works at St James Hospital" in statements
    assert "→ 2023-06-30] The user works at St James Hospital" in ctx.text


async def test_a_long_history_shows_its_latest_values(tmp_path: Path) -> None:
    """25 homes and 25 jobs: the earlier homes shown are the latest ones, and a job ended with
    no successor answers with the last one, not with one of the first twenty."""
    story = []
    for n in range(25):
        month = f"20{10 + n // 12}-{n % 12 + 1:02d}-01"
        end = f"20{10 + (n + 1) // 12}-{(n + 1) % 12 + 1:02d}-01"
        story.append((month, f"I moved to Town{n} and started at Firm{n}.", [
            ("user", "lives_in", f"Town{n}", "place", f"The user lives in Town{n}", None, None),
            ("user", "works_at", f"Firm{n}", "org", f"The user works at Firm{n}", None, end),
        ]))  # fmt: skip
    async with open_store(f"sqlite:///{tmp_path / 'long.db'}") as store:
        mem = Memory(store, HashEmbedder(), clock=StepClock(datetime(2016, 1, 1, tzinfo=UTC)))
        await commit_story(mem, "nomad", story)
        home = await mem.recall("nomad", "Where do I live?")
        assert [cf.fact.statement for cf in home.facts][:1] == ["The user lives in Town24"]
        assert "The user lives in Town23" in [cf.fact.statement for cf in home.superseded]
        work = await mem.recall("nomad", "Where do I work?")
        shown = [cf.fact.statement for cf in [*work.facts, *work.superseded]]
        assert shown[0] == "The user works at Firm24"


async def test_a_still_question_is_answered_by_the_value_that_ended(tmp_path: Path) -> None:
    """ "Do I still go sea swimming?" after it stopped: the ended hobby is the answer ("no,
    not since April"), so it ranks as the question's fact, not behind unrelated current ones."""
    story = [
        ("2023-04-02", "My son Eoin starts university in Galway.", [
            ("user", "has_child", "Eoin", "person", "Eoin is the user's son", None, None),
        ]),
        ("2023-05-01", "I joined a sea swimming group.", [
            ("user", "hobby", "sea swimming", "value", "The user goes sea swimming", None,
             "2024-04-01"),
        ]),
    ]  # fmt: skip
    async with open_store(f"sqlite:///{tmp_path / 'still.db'}") as store:
        mem = Memory(store, HashEmbedder(), clock=StepClock(datetime(2024, 6, 1, tzinfo=UTC)))
        await commit_story(mem, "swimmer", story)
        ctx = await mem.recall("swimmer", "Do I still go sea swimming?")
        assert ctx.ranked_facts()[0].fact.statement == "The user goes sea swimming"
        assert "→ 2024-04-01] The user goes sea swimming" in ctx.text


async def test_an_ended_value_told_later_as_a_story_is_not_the_latest(tmp_path: Path) -> None:
    """A job held until day 300, then a story told on day 400 of a job that ended on day 50:
    "who is my employer?" with no current job answers with the later job, by start."""
    from memlane.memory_graph.model import WriteSet
    from memlane.memory_graph.retrieval.config import PRESETS
    from tests.conftest import Sample, days

    s = Sample()
    acme = s.fact(
        "alice", "f_acme", "I work at Acme", predicate="works_at", value="Acme",
        valid=100, invalid=300, recorded=100,
    )  # fmt: skip
    google = s.fact(
        "alice", "f_goog", "I worked at Google until 2019", predicate="works_at",
        value="Google", invalid=50, recorded=400,
    )  # fmt: skip
    async with open_store(f"sqlite:///{tmp_path / 'story.db'}") as store:
        await store.apply(WriteSet("alice", facts=[acme, google]))
        mem = Memory(store, HashEmbedder(), clock=lambda: days(500))
        cfg = PRESETS["balanced"].model_copy(update={"expand": False})
        ctx = await mem.recall("alice", "who is my employer", preset=cfg)
        ended = [cf.fact.statement for cf in [*ctx.facts, *ctx.superseded] if "ended" in cf.sources]
        assert ended == ["I work at Acme"]


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Does Deirdre still go sea swimming?", True),
        ("is he still doing keto", True),
        ("I still live near the river, the flat is big", False),
        ("still no reply from the landlord. what can i do?", False),
    ],
)
def test_still_asks_about_how_things_were_only_in_a_question(text: str, asks: bool) -> None:
    from memlane.memory_graph.retrieval.query import asks_about_past

    assert asks_about_past(text) is asks
