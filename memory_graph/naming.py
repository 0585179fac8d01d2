"""Statements read with current names: a name may be corrected after a statement used it.

A statement is stored in the words it was written with ("Katarina lives in Kraków", "Keira is
allergic to nuts"). Names change after that: a misspelt person is renamed ("it's Katarzyna,
not Katarina"; the old spelling stays an alias), the user's name is corrected or changes. So
statements are not frozen with a name that may be wrong: :class:`Names` renders each one at
read time with the current name of the entities it is about and of the user.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from memlane.memory_graph.model import SELF_ID, Entity, Fact, FactQuery, normalise_name
from memlane.memory_graph.stores.base import GraphStore

__all__ = ["SELF_LABEL", "Names", "names_from", "read_names"]

SELF_LABEL = "user"
"""How the user themself is named where their name is not known."""


@dataclass(frozen=True)
class Names:
    """The current names of a user's entities and of the user, at ``now``.

    Attributes:
        now: the time names (and the facts read with them) are read at.
        entities: entities by id (their ``name`` is current; ``aliases`` hold the others).
        user_name: the user's current name, if memory holds one.
        former_user_names: names the user had before or that were corrected.
    """

    now: datetime
    entities: Mapping[str, Entity] = field(default_factory=dict)
    user_name: str | None = None
    former_user_names: tuple[str, ...] = ()

    def name(self, entity_id: str) -> str:
        """The entity's current name (the user: ``user``; an unknown id: the id)."""
        ent = self.entities.get(entity_id)
        if ent is not None:
            return ent.name
        return SELF_LABEL if entity_id == SELF_ID else entity_id

    def statement(self, fact: Fact) -> str:
        """``fact``'s statement with the current name wherever an older one of its subject,
        its object or the user stands."""
        text = fact.statement
        for eid in dict.fromkeys(i for i in (fact.subject_id, fact.object_id) if i):
            ent = self.entities.get(eid)
            if ent is not None and ent.aliases and eid != SELF_ID:
                text = _replace(text, ent.name, ent.aliases)
        if self.user_name and self.former_user_names:
            text = _replace(text, self.user_name, self.former_user_names)
        return text


def _replace(text: str, current: str, others: Iterable[str]) -> str:
    """``text`` with each whole-word occurrence of ``others`` replaced by ``current``.

    The current name itself is one of the alternatives, longest first, so an older name
    inside the current one ("Katarzyna" of "Katarzyna Nowak") is never doubled.
    """
    labels = {normalise_name(current)}
    words = [current]
    for other in others:
        key = normalise_name(other)
        if key and key not in labels and other.strip():
            labels.add(key)
            words.append(other.strip())
    if len(words) == 1:
        return text
    pattern = re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        + r")(?!\w)",
        re.IGNORECASE,
    )
    return pattern.sub(lambda _: current, text)


async def read_names(
    store: GraphStore, user_id: str, facts: Iterable[Fact], now: datetime
) -> Names:
    """The :class:`Names` to read ``facts`` with at ``now``: their entities and the user's
    names (one read of the user's ``name`` facts, retracted ones included)."""
    facts = list(facts)
    ids = sorted({i for f in facts for i in (f.subject_id, f.object_id) if i and i != SELF_ID})
    entities = {e.id: e for e in await store.get_entities(user_id, ids)} if ids else {}
    named = await store.find_facts(
        user_id,
        FactQuery(subject_id=SELF_ID, predicate="name", include_retracted=True, limit=50),
    )
    return names_from(now, entities, named)


def names_from(now: datetime, entities: Mapping[str, Entity], name_facts: Iterable[Fact]) -> Names:
    """:class:`Names` from entities and the user's ``name`` facts (of any status)."""
    current = [f for f in name_facts if f.value and f.valid_during(now)]
    user_name = max(current, key=lambda f: (f.start, f.id)).value if current else None
    former = tuple(dict.fromkeys(f.value for f in name_facts if f.value and f.value != user_name))
    return Names(now=now, entities=dict(entities), user_name=user_name, former_user_names=former)
