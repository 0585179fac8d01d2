"""Facts as proposed, before reconciliation: what an extraction model or a facts file gives.

A draft names things (``subject``, ``object``) rather than pointing at entity ids; the
reconciler resolves names to the user's entities, canonicalises the predicate, and applies the
temporal rules. ``subject`` of ``"user"`` (or ``"I"``, ``"me"``) means the user themself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from memlane.memory_graph.model import EntityKind, FactKind, Polarity
from memlane.memory_graph.timeutil import parse_time

__all__ = ["SELF_NAMES", "FactDraft", "ObjectKind"]

SELF_NAMES = frozenset({"user", "i", "me", "myself", "self", "the user"})

ObjectKind = EntityKind | Literal["value"]


class FactDraft(BaseModel):
    """One proposed fact about the user or someone in their life."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(default="user", min_length=1, max_length=300)
    subject_kind: EntityKind = "person"
    predicate: str = Field(min_length=1, max_length=64)
    object: str | None = Field(default=None, max_length=1000)
    object_kind: ObjectKind = "value"
    statement: str = Field(min_length=1, max_length=2000)
    kind: FactKind = "fact"
    polarity: Polarity = "positive"
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    episode_ids: list[str] = Field(default_factory=list)
    contradicts: list[str] = Field(
        default_factory=list, description="ids of existing facts this one makes untrue"
    )
    restates: list[str] = Field(
        default_factory=list, description="ids of existing facts this one repeats"
    )
    corrects: list[str] = Field(
        default_factory=list,
        description="ids of existing facts this one shows were never true: a correction "
        "('I meant Leipzig, not Dresden'), not a change in the world",
    )
    corrects_value: str | None = Field(
        default=None,
        max_length=1000,
        description="the wrong value an earlier message gave that this one corrects "
        "('Dresden' in 'I meant Leipzig, not Dresden'), when its fact id is not known",
    )

    @field_validator("valid_at", "invalid_at", mode="before")
    @classmethod
    def _time(cls, value: Any, info) -> Any:  # type: ignore[no-untyped-def]
        if value is None or value == "":
            return None
        return parse_time(value, field=info.field_name)  # type: ignore[arg-type]

    @property
    def about_self(self) -> bool:
        return self.subject.strip().casefold() in SELF_NAMES
