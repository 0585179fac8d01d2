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
from memlane.memory_graph.errors import ConflictError, InputError, NotFoundError
from memlane.memory_graph.ids import check_id, check_user_id
from memlane.memory_graph.limits import MAX_NOTE_CHARS, MAX_VALUE_CHARS
from memlane.memory_graph.model import SELF_ID, Episode, FactQuery, episode_id_for, value_key
from memlane.memory_graph.sameness import same_value
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
        key = value_key(text)
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
    """Correct a fact's value the way a correction in conversation is handled: the request is
    recorded as an episode and committed as the right fact that ``corrects`` the wrong one,
    through the reconciler (:meth:`Memory.commit`). The wrong fact is retracted (it was never
    true), or, for a misspelt name of a person or pet, the entity is renamed and the fact kept.

    Args:
        memory: the memory to write.
        user_id: whose memory.
        fact_id: the fact that is wrong.
        value: the right value (a name such as "Berlin", or a literal such as "42").

    Raises:
        NotFoundError: the user has no such fact.
        ConflictError: the fact was already retracted, or changed while this was written.
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
    kinds = {e.id: e.kind for e in names.entities.values()}
    old_object = names.name(old.object_id) if old.object_id else (old.value or "")
    if same_value(new_value, old_object):
        raise InputError(f"the fact already has the value {old_object!r}", where="value")

    now = memory.clock()
    subject = names.name(old.subject_id)
    statement = _restate(
        names.statement(old),
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
    draft = FactDraft(
        subject="user" if old.subject_id == SELF_ID else subject,
        subject_kind=kinds.get(old.subject_id, "other"),  # type: ignore[arg-type]
        predicate=old.predicate,
        object=new_value,
        object_kind=kinds.get(old.object_id, "other") if old.object_id else "value",  # type: ignore[arg-type]
        statement=statement,
        kind=old.kind,
        polarity=old.polarity,
        confidence=1.0,
        # A correction fixes the value, not when it held: keep the old window.
        valid_at=old.valid_at,
        invalid_at=old.invalid_at,
        episode_ids=[episode.id],
        corrects=[old.id],
    )
    report = await memory.commit(user_id, [draft], [episode])
    if not report.fact_ids and report.facts_merged == 0:
        raise ConflictError(f"fact {fact_id!r} changed while it was corrected", where="fact_id")
    after = {f.id: f for f in await memory.store.get_facts(user_id, [old.id, *report.fact_ids])}
    new = after.get(report.fact_ids[0]) if report.fact_ids else after.get(old.id)
    if new is None:
        raise ConflictError(f"fact {fact_id!r} changed while it was corrected", where="fact_id")
    log.info("user %s: fact %s corrected by %s", user_id, old.id, new.id)
    shown = [after.get(old.id, old), new]
    names = await entity_names(memory, user_id, shown)
    return Corrected(
        user_id=user_id,
        old=FactView.of(shown[0], names),
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
