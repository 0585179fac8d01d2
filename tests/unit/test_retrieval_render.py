"""Context assembly and fusion arithmetic, on records built here (no store, no model)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memlane.memory_graph.model import Episode, Fact
from memlane.memory_graph.retrieval.context import ContextEpisode, ContextFact, render
from memlane.memory_graph.retrieval.fusion import Scores
from memlane.memory_graph.stores.base import Hit

pytestmark = pytest.mark.unit

T = datetime(2024, 3, 1, tzinfo=UTC)


def _episode(eid: str, text: str) -> ContextEpisode:
    ep = Episode(id=eid, user_id="u", session_id="s1", content=text, occurred_at=T, recorded_at=T)
    return ContextEpisode(episode=ep, score=0.0)


def _fact(fid: str, statement: str, eid: str, score: float) -> ContextFact:
    fact = Fact(
        id=fid,
        user_id="u",
        subject_id="self",
        predicate="note",
        statement=statement,
        episode_ids=(eid,),
        valid_at=T,
        recorded_at=T,
    )
    return ContextFact(fact=fact, score=score, subject_name="user")


def _render(cited: bool, budget: int = 1000) -> tuple:
    msg = _episode("m1", "Long day. Anyway, we finally adopted a grey cat from the shelter!")
    other = _episode("m2", "The shelter is on Elm Street, open on Sundays.")
    facts = [_fact("f1", "The user adopted a grey cat", "m1", 0.2)]
    episodes = [msg.model_copy(update={"score": 0.5}), other.model_copy(update={"score": 0.1})]
    return render(
        [], facts, [], episodes, token_budget=budget, snippet_chars=400, cited_messages=cited
    )


def test_a_fact_stands_in_for_its_message_at_the_message_rank() -> None:
    _, facts, _, episodes, text, _ = _render(cited=False)
    assert [cf.fact.id for cf in facts] == ["f1"]
    assert facts[0].score == 0.5  # ranked where its message was
    assert [ce.episode.id for ce in episodes] == ["m2"]
    assert "finally adopted" not in text


def test_by_default_the_message_is_shown_beside_its_fact() -> None:
    _, facts, _, episodes, _, _ = _render(cited=True)
    assert [cf.fact.id for cf in facts] == ["f1"] and facts[0].score == 0.2
    assert {ce.episode.id for ce in episodes} == {"m1", "m2"}


def test_the_message_stands_for_itself_when_its_fact_does_not_fit() -> None:
    long_fact = "The user adopted a grey cat " + "and more words " * 40
    msg = _episode("m1", "We adopted a cat!").model_copy(update={"score": 0.5})
    _, facts, _, episodes, _, tokens = render(
        [],
        [_fact("f1", long_fact, "m1", 0.2)],
        [],
        [msg],
        token_budget=40,
        snippet_chars=400,
        cited_messages=False,
    )
    assert facts == [] and [ce.episode.id for ce in episodes] == ["m1"] and tokens <= 40


def test_score_aware_fusion_separates_a_clear_winner_from_a_close_second() -> None:
    close, clear = Scores(), Scores()
    close.add_hits([Hit("a", 0.90), Hit("b", 0.89)], 1.0, 5.0, "vector", by_score=1.0)
    clear.add_hits([Hit("a", 0.90), Hit("b", 0.30)], 1.0, 5.0, "vector", by_score=1.0)
    assert close.score["a"] == clear.score["a"]
    assert clear.score["b"] < close.score["b"] < close.score["a"]
    plain = Scores()
    plain.add_hits([Hit("a", 0.90), Hit("b", 0.30)], 1.0, 5.0, "vector", by_score=0.0)
    assert plain.score["b"] == pytest.approx(1.0 / 7.0)
