"""Commit a dated story (one message a day, with the facts it states) through ``Memory``.

For ranking tests with gold facts: each message is its own session and episode, and its
facts cite it, as an extraction of that message would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import EntityKind, Episode

__all__ = ["StoryFact", "commit_story", "day"]

# (subject, predicate, object, object kind, statement, valid_at, invalid_at); dates ISO days
StoryFact = tuple[str, str, str, EntityKind | str, str, str | None, str | None]


def day(text: str | None) -> datetime | None:
    """``"2023-05-01"`` as midnight UTC; None stays None."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC) if text else None


async def commit_story(
    memory: Memory, user_id: str, story: Sequence[tuple[str, str, Sequence[StoryFact]]]
) -> None:
    """Commit ``(day, message, facts)`` entries in order; a fact with no ``valid_at`` starts
    on its message's day."""
    for n, (when_text, text, facts) in enumerate(story):
        when = day(when_text)
        assert when is not None
        episode = Episode(
            id=f"ep{n}",
            user_id=user_id,
            session_id=f"s{n}",
            content=text,
            occurred_at=when,
            recorded_at=when,
        )
        drafts = [
            FactDraft(
                subject=subject,
                predicate=pred,
                object=obj,
                object_kind=kind,  # type: ignore[arg-type]
                statement=statement,
                valid_at=day(valid) or when,
                invalid_at=day(ended),
                episode_ids=[episode.id],
            )
            for subject, pred, obj, kind, statement, valid, ended in facts
        ]
        await memory.commit(user_id, drafts, [episode])
