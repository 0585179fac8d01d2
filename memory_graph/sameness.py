"""Sameness of values for one subject and predicate: the one place that decides it.

* A **literal** value is known by :func:`~memlane.memory_graph.model.value_key`: case,
  accents, punctuation, a leading article and trailing chat filler do not change it ("likes
  hiking lol" is "likes hiking"); a qualifier does ("Paris, Texas" is not "Paris").
* A **named thing** (an entity) is known by its name and the aliases the user has used, and
  an unknown name of several words may be an existing entity of a compatible kind by
  embedding similarity at least :attr:`SamenessConfig.entity_threshold`.
* A correction of a **misspelt name** ("it's Katarzyna, not Katarina") renames the entity
  (the same person, their name fixed) rather than retracting the fact: for people and pets,
  whose name is not what makes them who they are, and for any name spelt within
  :attr:`SamenessConfig.rename_similarity` of the right one.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

from pydantic import BaseModel, ConfigDict, Field

from memlane.memory_graph.model import Entity, EntityKind, normalise_name, value_key

__all__ = [
    "ENTITY_MATCH_THRESHOLD",
    "SamenessConfig",
    "can_link",
    "has_words",
    "is_rename",
    "named_by",
    "same_value",
]

ENTITY_MATCH_THRESHOLD = 0.92
"""Cosine similarity above which an unknown name is taken to be an existing entity."""

# Things whose name is a label, not their identity: a wrong name is a misspelling of them.
_NAMED_BEINGS = frozenset({"person", "pet"})


class SamenessConfig(BaseModel):
    """The thresholds of value sameness (the reconciler's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    entity_threshold: float = Field(
        default=ENTITY_MATCH_THRESHOLD,
        le=1.0,
        description="cosine similarity at which a new name of several words is a known entity",
    )
    rename_similarity: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="spelling similarity (0..1) at which a corrected name of a place, org or "
        "thing is the same thing misspelt rather than another one",
    )


def same_value(a: str | None, b: str | None) -> bool:
    """Whether two literal values of one subject and predicate are one value."""
    key = value_key(a or "")
    return bool(key) and key == value_key(b or "")


def named_by(labels: Iterable[str], value: str | None) -> bool:
    """Whether a thing known by ``labels`` (a literal, or an entity's name and aliases) is
    the value ``value`` as someone wrote it ("Dresden", "hiking lol")."""
    return any(same_value(label, value) for label in labels)


def has_words(name: str) -> bool:
    """More than one word, once normalised ("the", "my" and punctuation dropped)."""
    return " " in normalise_name(name)


def can_link(name: str, kind: EntityKind, entity: Entity) -> bool:
    """Whether embedding similarity may decide that ``name`` (of ``kind``) is ``entity``.

    Only names of compatible kinds (the same, or either ``other``: unknown) can be one thing:
    the org "Lego" is never the pet "Biscuit", however close their vectors. And both names
    need more than one word: a single word gives an embedding nothing but its surface (hash)
    or its topic (a model: "Nairobi" ~ "Kenya" at 0.90), so it would link related things, not
    the same thing reworded; its variants in case, accents and articles already meet by exact
    normalised name.
    """
    if not _compatible(kind, entity.kind):
        return False
    return has_words(name) and has_words(entity.name)


def is_rename(
    wrong: Entity, right_name: str, right_kind: EntityKind, config: SamenessConfig
) -> bool:
    """Whether correcting ``wrong`` to ``right_name`` fixes its name (the same thing) rather
    than naming another thing ("I meant Leipzig, not Dresden")."""
    if not _compatible(right_kind, wrong.kind):
        return False
    if wrong.kind in _NAMED_BEINGS or right_kind in _NAMED_BEINGS:
        return True
    ratio = SequenceMatcher(None, normalise_name(wrong.name), normalise_name(right_name)).ratio()
    return ratio >= config.rename_similarity


def _compatible(a: EntityKind, b: EntityKind) -> bool:
    return a == b or "other" in (a, b)
