"""A small, known life story for one user, committed through ``Memory`` (no LLM).

Alice lived in Paris (2023), moved to Berlin (2024-03); likes sushi; has a dog, Rex; works at
Acme. Every fact comes from an episode, so provenance has something to show.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import SELF_ID, Entity, Episode, Fact, WriteSet
from memlane.memory_graph.stores.base import GraphStore

__all__ = ["StepClock", "seed_large_user", "seed_user"]


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


_KINDS = ("person", "place", "org", "thing", "concept")
_PREDICATES = (
    ("knows", "person"),
    ("visited", "place"),
    ("works_with", "org"),
    ("owns", "thing"),
    ("likes", "concept"),
    ("reads", "thing"),
    ("met_at", "place"),
    ("studies", "concept"),
)


async def seed_large_user(store: GraphStore, user_id: str, *, facts: int = 3_000) -> int:
    """A user with ``facts`` facts over 3 years among ~300 entities (no LLM, no reconcile):
    eight predicates, each fact from an episode, one in ten already ended. Returns the
    number of facts that hold now."""
    embedder = HashEmbedder()
    start = datetime(2022, 1, 1, tzinfo=UTC)
    entities = [
        Entity(
            id=f"ent{i}",
            user_id=user_id,
            name=f"{_KINDS[i % len(_KINDS)].title()} {i}",
            kind=_KINDS[i % len(_KINDS)],  # type: ignore[arg-type]
            created_at=start,
        )
        for i in range(300)
    ]
    me = Entity(id=SELF_ID, user_id=user_id, name="Me", kind="self", created_at=start)
    current = 0
    batch = 300
    for first in range(0, facts, batch):
        episodes, made = [], []
        for n in range(first, min(first + batch, facts)):
            day = start + timedelta(hours=9 * n)
            pred, _ = _PREDICATES[n % len(_PREDICATES)]
            # Subjects: mostly the user; some facts link two other entities.
            subject = me.id if n % 3 else entities[(n * 7) % 300].id
            obj = entities[(n * 13 + n // 8) % 300]
            ep = Episode(
                id=f"big-ep{n}",
                user_id=user_id,
                session_id=f"s{n // 50}",
                content=f"Note {n}: about {obj.name}",
                occurred_at=day,
                recorded_at=day,
            )
            ended = n % 10 == 0
            current += not ended
            made.append(
                Fact(
                    id=f"big-f{n}",
                    user_id=user_id,
                    subject_id=subject,
                    predicate=pred,
                    object_id=obj.id,
                    statement=f"Fact {n}: {pred.replace('_', ' ')} {obj.name}",
                    kind="fact",
                    valid_at=day,
                    invalid_at=day + timedelta(days=30) if ended else None,
                    recorded_at=day,
                    episode_ids=(ep.id,),
                )
            )
            episodes.append(ep)
        ents = [me, *entities] if first == 0 else []
        await store.apply(
            WriteSet(
                user_id=user_id,
                episodes=episodes,
                entities=ents,
                facts=made,
                episode_vectors=_vectors(embedder, {e.id: e.content for e in episodes}),
                entity_vectors=_vectors(embedder, {e.id: e.name for e in ents}),
                fact_vectors=_vectors(embedder, {f.id: f.statement for f in made}),
            )
        )
    return current


def _vectors(embedder: HashEmbedder, texts: dict[str, str]) -> dict[str, Any]:
    return dict(zip(texts, embedder.embed(list(texts.values())), strict=True)) if texts else {}
