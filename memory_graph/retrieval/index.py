"""What to embed for new episodes, so retrieval can find them (the index side of retrieval).

A turn is indexed with its speaker and the turn before it in the same session (see
:func:`memlane.memory_graph.retrieval.query.episode_index_text`). Writers (``Memory.add_episodes``,
the reconciler) call :func:`episode_index_texts` on the episodes they are about to store and
embed the result instead of the bare content.
"""

from __future__ import annotations

from collections.abc import Sequence

from memlane.memory_graph.model import Episode
from memlane.memory_graph.retrieval.query import episode_index_text
from memlane.memory_graph.stores.base import GraphStore

__all__ = ["episode_index_texts"]


async def episode_index_texts(
    store: GraphStore, user_id: str, episodes: Sequence[Episode]
) -> list[str]:
    """The text to embed for each new episode, in the order given.

    The previous turn is the one just before in the same batch and session; for the first
    turn of a session in the batch, the latest turn already stored in that session (if it
    was said no later).

    Args:
        store: where earlier turns of the same sessions are stored.
        user_id: whose episodes these are.
        episodes: episodes about to be written (one user).
    """
    order = sorted(range(len(episodes)), key=lambda i: (episodes[i].occurred_at, i))
    previous: dict[str | None, Episode] = {}
    texts = [""] * len(episodes)
    for i in order:
        ep = episodes[i]
        if ep.session_id is not None and ep.session_id not in previous:
            stored = await store.episodes_in_session(user_id, ep.session_id, limit=1)
            if stored and stored[-1].occurred_at <= ep.occurred_at and stored[-1].id != ep.id:
                previous[ep.session_id] = stored[-1]
        prev = previous.get(ep.session_id) if ep.session_id is not None else None
        texts[i] = episode_index_text(ep, prev)
        if ep.session_id is not None:
            previous[ep.session_id] = ep
    return texts
