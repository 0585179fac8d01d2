"""The neighbourhood walk, written once above the port's ``facts_touching`` primitive."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memlane.memory_graph.model import Fact

if TYPE_CHECKING:
    from memlane.memory_graph.stores.base import GraphStore

__all__ = ["neighbourhood"]


async def neighbourhood(
    store: GraphStore, user_id: str, entity_ids: Sequence[str], hops: int, limit: int
) -> list[Fact]:
    """Facts (any validity) on paths of up to ``hops`` edges from ``entity_ids``.

    Breadth first, one ``facts_touching`` call per hop: every hop-1 fact outranks every
    hop-2 fact under ``limit``, and within a hop the newest come first (a hub entity such as
    the user themself costs ``limit`` facts, not everything it touches).
    """
    frontier = list(dict.fromkeys(entity_ids))
    visited = set(frontier)
    found: list[Fact] = []
    seen: set[str] = set()
    for _ in range(max(0, int(hops))):
        room = int(limit) - len(found)
        if not frontier or room <= 0:
            break
        nxt: list[str] = []
        for fact in await store.facts_touching(user_id, frontier, seen, room):
            seen.add(fact.id)
            found.append(fact)
            for end in (fact.subject_id, fact.object_id):
                if end and end not in visited:
                    visited.add(end)
                    nxt.append(end)
        frontier = nxt
    return found
