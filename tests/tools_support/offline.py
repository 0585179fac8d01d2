"""The offline model's extraction of one message, as the unit tests of its rules read it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from memlane.llm.offline.provider import answer
from memlane.memory_graph.predicates import default_registry
from memlane.prompts import extract_memory as em

NOW = datetime(2024, 3, 15, 10, 0, tzinfo=UTC)  # a Friday
OLD = datetime(2023, 1, 1, tzinfo=UTC)


def extract(
    text: str,
    *known: tuple[str, str, str] | tuple[str, str, str, datetime],
    previous: str | None = None,
    now: datetime = NOW,
) -> dict[str, Any]:
    """The validated ``ExtractionOutput`` dict of ``text`` said by Sam at ``now``, with
    ``known`` (subject, predicate, object[, valid_at]) shown as existing facts and
    ``previous`` as the user's turn before it."""
    data = em.ExtractionInput(
        user_name="Sam",
        turn_time=now,
        new_turns=[em.Turn(content=text, at=now)],
        recent_turns=[em.Turn(content=previous, at=OLD)] if previous else [],
        candidates=[
            em.CandidateFact(
                short_id=f"F{i + 1}",
                subject=k[0],
                predicate=k[1],
                object=k[2],
                statement=f"{k[0]} {k[1]} {k[2]}",
                valid_at=k[3] if len(k) > 3 else OLD,  # type: ignore[misc]
            )
            for i, k in enumerate(known)
        ],
        predicates=em.ExtractionInput.predicate_lines(default_registry()),
    )
    out = json.loads(answer(em.build_messages(data)))
    em.ExtractionOutput.model_validate(out, context=em.validation_context(data, default_registry()))
    return out
