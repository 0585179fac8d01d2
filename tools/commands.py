"""Memory commands that change what memlane believes: remember, correct, forget.

Each writes through :meth:`Memory.commit`, :meth:`Memory.apply` or
:meth:`Memory.delete_facts`: atomic, and serialised with the user's other writes, so a
failure leaves memory as it was and a concurrent commit is never overwritten. Every change
is sourced: ``remember`` and ``correct`` record the request as an episode, and the fact they
write points at it.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.port import embed_off_loop
from memlane.memory_graph.errors import ConflictError, InputError, NotFoundError
from memlane.memory_graph.ids import check_id, check_user_id
from memlane.memory_graph.limits import MAX_NOTE_CHARS, MAX_VALUE_CHARS
from memlane.memory_graph.model import (
    Entity,
    Episode,
    Fact,
    FactQuery,
    WriteSet,
    entity_id_for,
    episode_id_for,
    fact_id_for,
    normalise_name,
)
from memlane.memory_graph.retrieval.index import episode_index_texts
from memlane.tools._common import check_text, entity_names
from memlane.tools.models import Corrected, EpisodeView, FactView, Forgotten, Remembered

if TYPE_CHECKING:
    from memlane.memory_graph.memory import Memory

__all__ = ["correct", "forget", "remember"]

log = logging.getLogger(__name__)

# A note's text is also its value (so two different notes never count as one restated
# value), and a fact's value holds at most 1000 characters.
REMEMBER_SESSION = "memlane.remember"
CORRECT_SESSION = "memlane.corrections"


def _request(user_id: str, session: str, now: datetime, content: str, *, key: str) -> Episode:
    """The episode a command records as the source of what it writes; ``key`` makes its id
    (the same request at the same time is the same episode)."""
    return Episode(
        id=episode_id_for(session, "user", now, key),
        user_id=user_id,
        session_id=session,
        role="user",
        content=content,
        occurred_at=now,
        recorded_at=now,
    )


async def remember(memory: Memory, user_id: str, statement: str) -> Remembered:
    """Remember something the user explicitly asked to be remembered, as a note about them.

    Args:
        memory: the memory to write.
        user_id: whose memory.
        statement: what to remember, as one sentence ("My locker code is 4512").
    """
    check_user_id(user_id)
    text = check_text(statement, "statement", MAX_NOTE_CHARS)
    now = memory.clock()
    episode = _request(user_id, REMEMBER_SESSION, now, f"Remember: {text}", key=text)
    draft = FactDraft(
        subject="user",
        predicate="note",
        object=text,
        object_kind="value",
        statement=text,
        kind="fact",
        valid_at=now,
        episode_ids=[episode.id],
    )
    report = await memory.commit(user_id, [draft], [episode])
    found = await memory.store.get_facts(user_id, report.fact_ids)
    if not found:
        # The same note was remembered before: the existing fact gained this episode.
        key = normalise_name(text)
        found = [
            f
            for f in await memory.store.find_facts(
                user_id, FactQuery(predicate="note", current_only=True)
            )
            if f.object_key == key
        ]
    if not found:
        raise ConflictError("the note was not stored", where="statement")
    names = await entity_names(memory, user_id, found[:1])
    return Remembered(
        user_id=user_id, fact=FactView.of(found[0], names), episode=EpisodeView.of(episode)
    )


def _restate(statement: str, old_value: str, new_value: str, fallback: str) -> str:
    """The old sentence with the old value swapped for the new, or a plain sentence."""
    pattern = re.compile(re.escape(old_value), re.IGNORECASE) if old_value else None
    if pattern is not None and pattern.search(statement):
        return pattern.sub(lambda _: new_value, statement, count=1)
    return fallback


async def correct(memory: Memory, user_id: str, fact_id: str, value: str) -> Corrected:
    """Correct a fact's value: the old fact is retracted (it was never true) and a new fact
    with the right value, sourced from an episode recording the correction, replaces it.

    Args:
        memory: the memory to write.
        user_id: whose memory.
        fact_id: the fact that is wrong.
        value: the right value (a name such as "Berlin", or a literal such as "42").

    Raises:
        NotFoundError: the user has no such fact.
        ConflictError: the fact was already retracted.
        InputError: the value is empty, too long, or the same as the old one.
    """
    check_user_id(user_id)
    check_id(fact_id, "fact_id")
    new_value = check_text(value, "value", MAX_VALUE_CHARS)
    got = await memory.store.get_facts(user_id, [fact_id])
    if not got:
        raise NotFoundError(f"no fact {fact_id!r} for this user", where="fact_id")
    old = got[0]
    if old.is_retracted:
        raise ConflictError(f"fact {fact_id!r} was already retracted", where="fact_id")
    names = await entity_names(memory, user_id, [old])
    old_object = names.get(old.object_id, "") if old.object_id else (old.value or "")
    if normalise_name(new_value) == normalise_name(old_object):
        raise InputError(f"the fact already has the value {old_object!r}", where="value")

    now = memory.clock()
    subject = names.get(old.subject_id, old.subject_id)
    statement = _restate(
        old.statement,
        old_object,
        new_value,
        f"{subject} {old.predicate.replace('_', ' ')} {new_value}",
    )
    episode = _request(
        user_id,
        CORRECT_SESSION,
        now,
        f'Correction: "{old.statement}" is wrong; {statement}',
        key=f"{old.id}\x1f{new_value}",
    )
    entities: list[Entity] = []
    object_id: str | None = None
    literal: str | None = new_value
    if old.object_id:
        # The object was an entity, so the right value names one too: reuse or create it.
        known = await memory.store.find_entities(user_id, [new_value])
        if known:
            object_id = known[0].id
        else:
            kinds = await memory.store.get_entities(user_id, [old.object_id])
            entity = Entity(
                id=entity_id_for(new_value),
                user_id=user_id,
                name=new_value,
                kind=kinds[0].kind if kinds else "other",
                created_at=now,
            )
            entities.append(entity)
            object_id = entity.id
        literal = None
    new = Fact(
        id=fact_id_for(
            old.subject_id,
            old.predicate,
            object_id or normalise_name(new_value),
            old.polarity,
            old.valid_at,
            episode.id,
        ),
        user_id=user_id,
        subject_id=old.subject_id,
        predicate=old.predicate,
        object_id=object_id,
        value=literal,
        statement=statement,
        kind=old.kind,
        polarity=old.polarity,
        confidence=1.0,
        # A correction fixes the value, not when it held: keep the old window.
        valid_at=old.valid_at,
        invalid_at=old.invalid_at,
        recorded_at=now,
        episode_ids=(episode.id,),
    )
    retracted = old.model_copy(update={"expired_at": now, "invalid_at": None})
    # The episode is embedded from its index text, as every writer embeds messages.
    [episode_text] = await episode_index_texts(memory.store, user_id, [episode])
    texts = [statement, episode_text, *(e.name for e in entities)]
    vectors = await embed_off_loop(memory.embedder, texts)
    # Serialised with the user's commits; if one closed or changed the old fact meanwhile,
    # nothing is written rather than overwriting that change with this stale copy.
    await memory.apply(
        WriteSet(
            user_id=user_id,
            episodes=[episode],
            entities=entities,
            facts=[retracted, new],
            fact_vectors={new.id: vectors[0]},
            episode_vectors={episode.id: vectors[1]},
            entity_vectors={e.id: vectors[2 + i] for i, e in enumerate(entities)},
        ),
        expect_unchanged=[old],
    )
    log.info("user %s: fact %s corrected by %s", user_id, old.id, new.id)
    names = await entity_names(memory, user_id, [retracted, new])
    return Corrected(
        user_id=user_id,
        old=FactView.of(retracted, names),
        new=FactView.of(new, names),
        episode=EpisodeView.of(episode),
    )


async def forget(
    memory: Memory, user_id: str, fact_id: str | None = None, *, everything: bool = False
) -> Forgotten:
    """Delete one fact, or everything memlane holds about the user.

    Args:
        memory: the memory to write.
        user_id: whose memory.
        fact_id: the fact to delete (exactly one of ``fact_id`` and ``everything``).
        everything: delete every episode, entity and fact of the user.

    Raises:
        InputError: neither or both of ``fact_id`` and ``everything`` were given.
        NotFoundError: the user has no such fact.
    """
    if bool(fact_id) == everything:
        raise InputError("give a fact id or everything, exactly one of the two", where="fact_id")
    if everything:
        deleted = await memory.forget(user_id)
        log.info("user %s: forgot everything", user_id)
        return Forgotten(user_id=user_id, deleted=dict(deleted))
    assert fact_id is not None
    check_user_id(user_id)
    check_id(fact_id, "fact_id")
    count = await memory.delete_facts(user_id, [fact_id])
    if not count:
        raise NotFoundError(f"no fact {fact_id!r} for this user", where="fact_id")
    log.info("user %s: forgot fact %s", user_id, fact_id)
    return Forgotten(user_id=user_id, fact_id=fact_id, deleted={"facts": count})
