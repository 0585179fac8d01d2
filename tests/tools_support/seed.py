"""A small, known life story for one user, committed through ``Memory`` (no LLM).

Alice lived in Paris (2023), moved to Berlin (2024-03); likes sushi; has a dog, Rex; works at
Acme. Every fact comes from an episode, so provenance has something to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode

__all__ = ["StepClock", "seed_user"]


class StepClock:
    """A clock that moves one second per call, so every write has its own time."""

    def __init__(self, start: datetime = datetime(2025, 1, 1, tzinfo=UTC)) -> None:
        self._times: Iterator[datetime] = (start + timedelta(seconds=i) for i in range(10**9))

    def __call__(self) -> datetime:
        return next(self._times)


_STORY = [
    ("2023-01-10", "I live in Paris and work at Acme.", [
        ("lives_in", "Paris", "place", "I live in Paris", "fact"),
        ("works_at", "Acme", "org", "I work at Acme", "fact"),
    ]),
    ("2023-06-02", "I love sushi, and my dog Rex loves the park.", [
        ("likes", "sushi", "value", "I love sushi", "preference"),
        ("has_pet", "Rex", "pet", "I have a dog named Rex", "fact"),
    ]),
    ("2024-03-15", "I just moved to Berlin!", [
        ("lives_in", "Berlin", "place", "I live in Berlin", "fact"),
    ]),
]  # fmt: skip


async def seed_user(memory: Memory, user_id: str, *, name: str = "Alice") -> dict[str, str]:
    """Commit the story for ``user_id``; returns fact ids by ``predicate:object``."""
    ids: dict[str, str] = {}
    for n, (date, text, drafts) in enumerate(_STORY):
        day = datetime.fromisoformat(date).replace(tzinfo=UTC)
        episode = Episode(
            id=f"{name.lower()}-ep{n}",
            user_id=user_id,
            session_id="s1",
            content=f"{text} ({name})",
            occurred_at=day,
            recorded_at=day,
        )
        report = await memory.commit(
            user_id,
            [
                FactDraft(
                    predicate=pred,
                    object=obj,
                    object_kind=okind,  # type: ignore[arg-type]
                    statement=f"{statement} ({name})",
                    kind=kind,  # type: ignore[arg-type]
                    valid_at=day,
                    episode_ids=[episode.id],
                )
                for pred, obj, okind, statement, kind in drafts
            ],
            [episode],
        )
        for (pred, obj, *_), fid in zip(drafts, report.fact_ids, strict=True):
            ids[f"{pred}:{obj}"] = fid
    return ids
