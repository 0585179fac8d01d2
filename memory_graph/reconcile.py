"""Reconciliation: proposed facts (drafts) in, one atomic write set out.

The reconciler is the single road from a :class:`~memlane.memory_graph.drafts.FactDraft` to the
graph,
whether the draft came from an extraction model or from a facts file. For a batch of drafts and
the episodes they came from it:

1. canonicalises each predicate through the registry (unknown -> ``UnknownPredicateError``);
   an antonym flips the polarity (``dislikes X`` is stored as ``likes X``, negative);
2. resolves names to the user's entities: the user themself, then exact normalised name or
   alias, then embedding similarity above a high threshold with an entity of a compatible
   kind (names of more than one word only; see
   :func:`~memlane.memory_graph.sameness.can_link`), else a new entity; a correction of a
   misspelt name renames the entity (:mod:`memlane.memory_graph.sameness`);
3. reads the conflict candidates per (subject, predicate) from the store, plus the facts named
   in ``contradicts`` / ``restates`` (ids of other users or unknown ids are noted and ignored);
4. applies :func:`memlane.memory_graph.temporal.resolve` draft by draft, so drafts of one batch see
   each other;
5. embeds new episodes (from their index text: speaker and previous turn, see
   :func:`~memlane.memory_graph.retrieval.index.episode_index_texts`), entity names and fact
   statements in one batched embedder call.

Nothing is written here: :meth:`Reconciler.reconcile` returns the :class:`WriteSet` and the
:class:`CommitReport` the caller applies and returns.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from memlane.memory_graph.drafts import SELF_NAMES, FactDraft
from memlane.memory_graph.embedding.port import Embedder, embed_off_loop
from memlane.memory_graph.errors import InputError, UnknownPredicateError
from memlane.memory_graph.ids import check_user_id
from memlane.memory_graph.model import (
    ID_PATTERN,
    MAX_STATEMENT_CHARS,
    SELF_ID,
    Entity,
    EntityKind,
    Episode,
    Fact,
    FactQuery,
    StartPrecision,
    WriteSet,
    entity_id_for,
    fact_id_for,
    normalise_name,
    object_key_of,
    text_problem,
)
from memlane.memory_graph.predicates import PredicateRegistry, ResolvedPredicate
from memlane.memory_graph.retrieval.index import episode_index_texts
from memlane.memory_graph.sameness import (
    ENTITY_MATCH_THRESHOLD,
    SamenessConfig,
    can_link,
    has_words,
    is_rename,
    named_by,
)
from memlane.memory_graph.stores.base import GraphStore
from memlane.memory_graph.temporal import resolve
from memlane.memory_graph.timeutil import utcnow

__all__ = [
    "ENTITY_MATCH_THRESHOLD",
    "IDENTITY_MIN_CONFIDENCE",
    "SELF_NAME",
    "CommitReport",
    "Reconciler",
    "WriteCounts",
    "check_draft",
    "check_user_id",
    "needs_name_vector",
]

log = logging.getLogger(__name__)

IDENTITY_PREDICATES = frozenset({"name", "age"})
"""The user's identity: replaced only by an explicit statement."""
IDENTITY_MIN_CONFIDENCE = 0.75
"""Below this confidence a draft never replaces the user's current name or age."""
SELF_NAME = "user"
"""The name of the user's own entity (id :data:`~memlane.memory_graph.model.SELF_ID`)."""

_ID = re.compile(ID_PATTERN)
_ENTITY_NAME_MAX = 300
# How many stored facts of one (subject, predicate) a new fact is compared with.
_CANDIDATES_PER_KEY = 500


class WriteCounts(BaseModel):
    """How many records a write added, skipped, closed or merged."""

    episodes_added: int = 0
    episodes_skipped: int = 0
    entities_added: int = 0
    facts_added: int = 0
    facts_closed: int = 0
    facts_merged: int = 0

    def add(self, other: WriteCounts) -> None:
        """Add ``other``'s counts to these (in place), e.g. one batch's to a file's."""
        for name in WriteCounts.model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class CommitReport(WriteCounts):
    """What one commit (or episode ingest) changed."""

    user_id: str
    fact_ids: list[str] = Field(default_factory=list, description="ids of facts added")
    closed_ids: list[str] = Field(
        default_factory=list, description="ids of facts closed (including ones added here)"
    )
    notes: list[str] = Field(default_factory=list)


def _check_text(value: str | None, what: str, limit: int, where: str) -> None:
    problem = None if value is None else text_problem(value, limit)
    if problem:
        raise InputError(f"{what} {problem}", where=where)


def check_draft(draft: FactDraft, registry: PredicateRegistry, *, where: str) -> ResolvedPredicate:
    """Validate everything about a draft that reconciliation would reject, before any write.

    Args:
        draft: the proposed fact.
        registry: predicates to canonicalise against.
        where: where the draft came from (``facts.jsonl:7``, ``drafts[2]``), for the error.

    Returns:
        The canonical predicate spec, and whether the draft's predicate negates it.

    Raises:
        UnknownPredicateError: the predicate is not registered.
        InputError: control characters, empty or oversized names, invalid episode ids,
            or an ``invalid_at`` before ``valid_at``.
    """
    try:
        resolved = registry.resolve(draft.predicate)
    except UnknownPredicateError as exc:
        raise UnknownPredicateError(exc.message, where=where) from exc
    except InputError as exc:
        raise InputError(exc.message, where=where) from exc
    _check_text(draft.subject, "subject", _ENTITY_NAME_MAX, where)
    object_limit = 1000 if draft.object_kind == "value" else _ENTITY_NAME_MAX
    _check_text(draft.object, "object", object_limit, where)
    _check_text(draft.statement, "statement", MAX_STATEMENT_CHARS, where)
    for eid in (*draft.episode_ids, *draft.contradicts, *draft.restates, *draft.corrects):
        if not isinstance(eid, str) or not _ID.match(eid):
            raise InputError(f"invalid id {eid!r}", where=where)
    if draft.valid_at and draft.invalid_at and draft.invalid_at < draft.valid_at:
        raise InputError("invalid_at is before valid_at", where=where)
    return resolved


@dataclass
class _Batch:
    """Working state of one reconcile call."""

    user_id: str
    now: datetime
    report: CommitReport
    entities: dict[str, Entity] = field(default_factory=dict)  # resolved, by id
    new_entity_ids: list[str] = field(default_factory=list)
    aliased_ids: list[str] = field(default_factory=list)  # existing entities given an alias
    by_name: dict[str, str] = field(default_factory=dict)  # normalised name -> entity id
    facts: dict[str, Fact] = field(default_factory=dict)  # working graph, by id
    by_key: dict[tuple[str, str], dict[str, None]] = field(default_factory=dict)
    loaded_keys: set[tuple[str, str]] = field(default_factory=set)
    inserted: dict[str, None] = field(default_factory=dict)  # ordered set
    closed: dict[str, None] = field(default_factory=dict)  # ordered set
    changed: set[str] = field(default_factory=set)

    def put(self, fact: Fact, *, changed: bool = True) -> None:
        """Add or replace a fact of the working graph (``changed``: it is to be written)."""
        self.facts[fact.id] = fact
        self.by_key.setdefault((fact.subject_id, fact.predicate), {})[fact.id] = None
        if changed:
            self.changed.add(fact.id)

    def meeting(self, fact: Fact, named: Sequence[str]) -> list[Fact]:
        """Facts of the working graph ``fact`` may meet: same subject and predicate, or named."""
        ids = dict(self.by_key.get((fact.subject_id, fact.predicate), {}))
        ids.update((i, None) for i in named if i in self.facts)
        return [self.facts[i] for i in ids]


class Reconciler:
    """Turns drafts into a write set against one store. Stateless between calls."""

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        registry: PredicateRegistry,
        *,
        clock: Callable[[], datetime] = utcnow,
        sameness: SamenessConfig | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.registry = registry
        self.clock = clock
        self.sameness = sameness or SamenessConfig()

    async def new_episodes(
        self, user_id: str, episodes: Sequence[Episode]
    ) -> tuple[list[Episode], int]:
        """The episodes not stored yet (first of each id), and how many were skipped."""
        for i, ep in enumerate(episodes):
            if ep.user_id != user_id:
                raise InputError(
                    f"episode {ep.id!r} belongs to user {ep.user_id!r}, not {user_id!r}",
                    where=f"episodes[{i}]",
                )
        unique = list({ep.id: ep for ep in reversed(episodes)}.values())[::-1]
        stored = {ep.id for ep in await self.store.get_episodes(user_id, [e.id for e in unique])}
        fresh = [ep for ep in unique if ep.id not in stored]
        return fresh, len(episodes) - len(fresh)

    async def reconcile(
        self, user_id: str, drafts: Sequence[FactDraft], episodes: Sequence[Episode] = ()
    ) -> tuple[WriteSet, CommitReport]:
        """Build the write set for ``drafts`` (and the episodes they came from).

        Args:
            user_id: whose graph this is.
            drafts: proposed facts; ``episode_ids`` default to all of ``episodes``.
            episodes: the messages the drafts came from (stored if new).

        Returns:
            The write set to apply atomically and the report of what it does.

        Raises:
            UnknownPredicateError: a draft names an unregistered predicate.
            InputError: a draft or episode is invalid (nothing is written).
        """
        check_user_id(user_id)
        meanings = [
            check_draft(d, self.registry, where=f"drafts[{i}]") for i, d in enumerate(drafts)
        ]
        now = self.clock()
        batch = _Batch(user_id, now, CommitReport(user_id=user_id))
        fresh, skipped = await self.new_episodes(user_id, episodes)
        batch.report.episodes_added = len(fresh)
        batch.report.episodes_skipped = skipped
        episode_times = await self._episode_times(user_id, drafts, episodes)

        names = self._entity_names(drafts)
        await self._resolve_known_names(batch, names)
        unresolved = [n for n in names if normalise_name(n) not in batch.by_name]
        needs_self = SELF_ID not in batch.entities and any(
            d.about_self or (d.object_kind != "value" and d.object and _is_self(d.object))
            for d in drafts
        )
        if needs_self:
            self._entity_id(batch, SELF_NAME)

        # One embedder call for everything this batch may store. Only names that similarity
        # may link are embedded (see needs_name_vector): other vectors would never be read.
        statements = [d.statement for d in drafts]
        new_names = [n for n in unresolved if needs_name_vector(n)]
        episode_texts = await episode_index_texts(self.store, user_id, fresh)
        texts = [*new_names, *statements, *episode_texts]
        vectors = await self._embed(texts)
        name_vecs = dict(zip(new_names, vectors[: len(new_names)], strict=True))
        statement_vecs = vectors[len(new_names) : len(new_names) + len(statements)]
        episode_vecs = vectors[len(new_names) + len(statements) :]

        await self._resolve_by_similarity(batch, drafts, unresolved, name_vecs)
        await self._load_named(batch, drafts)

        fact_vectors: dict[str, np.ndarray] = {}
        default_episodes = tuple(dict.fromkeys(ep.id for ep in episodes))
        for i, (draft, meaning) in enumerate(zip(drafts, meanings, strict=True)):
            fact = self._fact_for(batch, draft, meaning, default_episodes, episode_times)
            await self._load_candidates(batch, fact.subject_id, fact.predicate)
            if self._weak_identity(batch, fact):
                batch.report.notes.append(
                    f"drafts[{i}]: {fact.predicate} {fact.value!r} ignored: too weak "
                    f"(confidence {fact.confidence}) to be the user's {fact.predicate}"
                )
                continue
            named = [*draft.corrects, *await self._corrected(batch, fact, draft.corrects_value)]
            fact, corrects = await self._renamed(batch, fact, named)
            res = resolve(
                fact,
                batch.meeting(fact, [*draft.contradicts, *draft.restates, *corrects]),
                functional=meaning.spec.functional,
                now=now,
                contradicts=draft.contradicts,
                restates=draft.restates,
                corrects=corrects,
                said_at=max(
                    (episode_times[e] for e in fact.episode_ids if e in episode_times),
                    default=now,
                ),
            )
            batch.report.notes.extend(f"drafts[{i}]: {n}" for n in res.notes)
            for upd in res.updates:
                batch.put(upd)
            batch.closed.update((cid, None) for cid in res.closed_ids)
            if res.merged_into:
                batch.report.facts_merged += 1
            if res.insert is not None:
                batch.put(res.insert)
                batch.inserted[res.insert.id] = None
                fact_vectors[res.insert.id] = statement_vecs[i]

        # closed_ids includes facts this batch added and a later draft of it closed: each is
        # both added (it is stored) and closed (it is not current).
        batch.report.closed_ids = list(batch.closed)
        batch.report.fact_ids = list(batch.inserted)
        batch.report.facts_added = len(batch.inserted)
        batch.report.facts_closed = len(batch.report.closed_ids)
        batch.report.entities_added = len(batch.new_entity_ids)

        writes = WriteSet(
            user_id=user_id,
            episodes=fresh,
            entities=[batch.entities[e] for e in self._entities_to_write(batch)],
            facts=[batch.facts[f] for f in sorted(batch.changed)],
            episode_vectors={ep.id: episode_vecs[j] for j, ep in enumerate(fresh)},
            entity_vectors={
                eid: name_vecs[batch.entities[eid].name]
                for eid in batch.new_entity_ids
                if batch.entities[eid].name in name_vecs
            },
            fact_vectors=fact_vectors,
        )
        return writes, batch.report

    # -- entities ----------------------------------------------------------------------------
    @staticmethod
    def _entity_names(drafts: Sequence[FactDraft]) -> list[str]:
        names: dict[str, str] = {}
        for d in drafts:
            if not d.about_self:
                names.setdefault(normalise_name(d.subject), d.subject.strip())
            if d.object is not None and d.object_kind != "value" and not _is_self(d.object):
                names.setdefault(normalise_name(d.object), d.object.strip())
        return list(names.values())

    async def _resolve_known_names(self, batch: _Batch, names: list[str]) -> None:
        found = await self.store.get_entities(batch.user_id, [SELF_ID])
        if found:
            batch.entities[SELF_ID] = found[0]
        if not names:
            return
        for ent in await self.store.find_entities(batch.user_id, names):
            if ent.user_id != batch.user_id:  # defence in depth: never link across users
                continue
            batch.entities.setdefault(ent.id, ent)
            for label in (ent.name, *ent.aliases):
                key = normalise_name(label)
                # Prefer the entity whose own name matches over one holding it as an alias.
                if key not in batch.by_name or normalise_name(ent.name) == key:
                    batch.by_name[key] = ent.id

    async def _resolve_by_similarity(
        self,
        batch: _Batch,
        drafts: Sequence[FactDraft],
        names: Sequence[str],
        name_vecs: dict[str, np.ndarray],
    ) -> None:
        kinds = self._kinds(drafts) if names else {}
        for name in names:
            key = normalise_name(name)
            if key in batch.by_name:
                continue
            kind = kinds.get(key, "other")
            vec = name_vecs.get(name)
            ent = None if vec is None else await self._similar_entity(batch, name, kind, vec)
            if ent is not None:
                # Remember the new wording so the next exact lookup finds it.
                ent = ent.model_copy(update={"aliases": (*ent.aliases, name)})
                batch.entities[ent.id] = ent
                batch.by_name[key] = ent.id
                batch.report.notes.append(f"linked {name!r} to entity {ent.id} ({ent.name})")
                if ent.id not in batch.new_entity_ids and ent.id not in batch.aliased_ids:
                    batch.aliased_ids.append(ent.id)
                continue
            eid = entity_id_for(name)
            batch.entities[eid] = Entity(
                id=eid, user_id=batch.user_id, name=name, kind=kind, created_at=batch.now
            )
            batch.by_name[key] = eid
            batch.new_entity_ids.append(eid)

    async def _similar_entity(
        self, batch: _Batch, name: str, kind: EntityKind, vec: np.ndarray
    ) -> Entity | None:
        """The closest stored entity ``name`` may be linked to by similarity, if any."""
        if not has_words(name):
            return None  # nothing but an exact name or alias can identify a one-word name
        hits = await self.store.search_vector(batch.user_id, "entity", vec, 3)
        least = self.sameness.entity_threshold
        close = [h.id for h in hits if h.id != SELF_ID and h.score >= least]
        missing = [i for i in close if i not in batch.entities]
        fetched = await self.store.get_entities(batch.user_id, missing) if missing else []
        found = {e.id: e for e in fetched if e.user_id == batch.user_id}
        for eid in close:  # best first
            ent = batch.entities.get(eid) or found.get(eid)
            if ent is not None and can_link(name, kind, ent):
                return ent
        return None

    @staticmethod
    def _kinds(drafts: Sequence[FactDraft]) -> dict[str, EntityKind]:
        """The kind each name is first given in the batch (normalised name -> kind)."""
        kinds: dict[str, EntityKind] = {}
        for d in drafts:
            kinds.setdefault(normalise_name(d.subject), d.subject_kind)
            if d.object and d.object_kind != "value":
                kinds.setdefault(normalise_name(d.object), d.object_kind)  # type: ignore[arg-type]
        return kinds

    def _entity_id(self, batch: _Batch, name: str) -> str:
        if _is_self(name):
            if SELF_ID not in batch.entities:
                batch.entities[SELF_ID] = Entity(
                    id=SELF_ID,
                    user_id=batch.user_id,
                    name=SELF_NAME,
                    kind="self",
                    created_at=batch.now,
                )
                batch.new_entity_ids.append(SELF_ID)
            return SELF_ID
        return batch.by_name[normalise_name(name)]

    @staticmethod
    def _entities_to_write(batch: _Batch) -> list[str]:
        # New entities, and existing ones that gained an alias.
        return list(dict.fromkeys((*batch.new_entity_ids, *batch.aliased_ids)))

    # -- facts -------------------------------------------------------------------------------
    async def _episode_times(
        self, user_id: str, drafts: Sequence[FactDraft], episodes: Sequence[Episode]
    ) -> dict[str, datetime]:
        times = {ep.id: ep.occurred_at for ep in episodes}
        wanted = {e for d in drafts for e in d.episode_ids if e not in times}
        if wanted:
            for ep in await self.store.get_episodes(user_id, sorted(wanted)):
                times[ep.id] = ep.occurred_at
        return times

    def _fact_for(
        self,
        batch: _Batch,
        draft: FactDraft,
        meaning: ResolvedPredicate,
        default_episodes: tuple[str, ...],
        episode_times: dict[str, datetime],
    ) -> Fact:
        subject_id = self._entity_id(batch, "user" if draft.about_self else draft.subject)
        object_id: str | None = None
        value: str | None = None
        if draft.object is not None and draft.object_kind != "value":
            object_id = self._entity_id(batch, draft.object)
        elif draft.object is not None:
            value = draft.object.strip()
        episode_ids = tuple(dict.fromkeys(draft.episode_ids)) or default_episodes
        missing = [e for e in episode_ids if e not in episode_times]
        if missing:
            batch.report.notes.append(
                f"{draft.statement[:60]!r}: source episodes not stored: {', '.join(missing)}"
            )
        said_at = max(
            (episode_times[e] for e in episode_ids if e in episode_times), default=batch.now
        )
        # Observed is not started: with no start said, valid_at is when it was first observed
        # (precision "unknown"), or nothing at all for a story that had ended before then.
        valid_at = draft.valid_at
        precision: StartPrecision | None = None
        if valid_at is not None:
            midnight = (valid_at.hour, valid_at.minute, valid_at.second) == (0, 0, 0)
            precision = "day" if midnight and not valid_at.microsecond else "time"
        else:
            precision = "unknown"
            ended_before = draft.invalid_at is not None and draft.invalid_at <= said_at
            valid_at = None if ended_before else said_at
        # The user's words stay in the statement; the fact holds the canonical predicate.
        predicate, polarity = meaning.spec.name, meaning.polarity(draft.polarity)
        object_key = object_key_of(object_id, value, draft.statement.strip(), predicate)
        fid = fact_id_for(
            subject_id,
            predicate,
            object_key,
            polarity,
            valid_at,
            episode_ids[0] if episode_ids else normalise_name(draft.statement),
        )
        try:
            return Fact(
                id=fid,
                user_id=batch.user_id,
                subject_id=subject_id,
                predicate=predicate,
                object_id=object_id,
                value=value,
                statement=draft.statement.strip(),
                kind=draft.kind,
                polarity=polarity,
                confidence=draft.confidence,
                valid_at=valid_at,
                invalid_at=draft.invalid_at,
                recorded_at=batch.now,
                episode_ids=episode_ids,
                start_precision=precision,
            )
        except ValidationError as exc:
            raise InputError(_first_error(exc), where="draft") from exc

    def _weak_identity(self, batch: _Batch, fact: Fact) -> bool:
        """Whether ``fact`` would set or replace the user's name or age on a weak reading.

        A greeting or a figure of speech ("Nobody here gets it", "like I'm 10") must not
        become who the user is, whether or not a name is known yet: identity needs an
        explicit statement (confidence at least :data:`IDENTITY_MIN_CONFIDENCE`). A weak
        reading may only restate the value already held.
        """
        if fact.subject_id != SELF_ID or fact.predicate not in IDENTITY_PREDICATES:
            return False
        if fact.confidence >= IDENTITY_MIN_CONFIDENCE:
            return False
        return not any(
            f.valid_during(batch.now) and f.object_key == fact.object_key
            for f in batch.meeting(fact, [])
        )

    async def _corrected(self, batch: _Batch, fact: Fact, wrong: str | None) -> list[str]:
        """Facts of ``fact``'s subject and predicate (and polarity) that memlane believes and
        whose value is ``wrong``: what a correction that names the wrong value but no id
        retracts. Values are compared the one way (:mod:`memlane.memory_graph.sameness`)."""
        if not wrong or not wrong.strip():
            return []
        held = [
            f
            for f in batch.meeting(fact, [])
            if f.expired_at is None and f.polarity == fact.polarity
        ]
        await self._load_entities(batch, held)
        out = []
        for f in held:
            ent = batch.entities.get(f.object_id or "")
            labels = [ent.name, *ent.aliases] if ent else [] if f.object_id else [f.value or ""]
            if named_by(labels, wrong):
                out.append(f.id)
        return out

    async def _renamed(
        self, batch: _Batch, fact: Fact, corrects: list[str]
    ) -> tuple[Fact, list[str]]:
        """A correction of a misspelt name ("it's Katarzyna, not Katarina") renames the
        entity instead of retracting the fact: the same person, their name fixed, their other
        facts kept. Returns the fact (now about that entity) and the ids still to retract."""
        new = batch.entities.get(fact.object_id or "")
        if new is None or new.id not in batch.new_entity_ids:
            return fact, corrects  # the right name is a thing already known: a retraction
        await self._load_entities(batch, [batch.facts[c] for c in corrects if c in batch.facts])
        for fid in corrects:
            wrong = batch.facts.get(fid)
            old = batch.entities.get(wrong.object_id or "") if wrong else None
            if (
                wrong is None
                or old is None
                or old.id == SELF_ID
                or (wrong.subject_id, wrong.predicate) != (fact.subject_id, fact.predicate)
                or not is_rename(old, new.name, new.kind, self.sameness)
            ):
                continue
            aliases = tuple(dict.fromkeys((*old.aliases, old.name, *new.aliases)))
            renamed = old.model_copy(
                update={"name": new.name, "aliases": tuple(a for a in aliases if a != new.name)}
            )
            batch.entities[old.id] = renamed
            batch.by_name[normalise_name(new.name)] = old.id
            if old.id not in batch.new_entity_ids and old.id not in batch.aliased_ids:
                batch.aliased_ids.append(old.id)
            if not any(new.id in (f.subject_id, f.object_id) for f in batch.facts.values()):
                batch.new_entity_ids.remove(new.id)
                del batch.entities[new.id]
            batch.report.notes.append(f"renamed entity {old.id} from {old.name!r} to {new.name!r}")
            return (
                _with_object(fact, old.id, wrong.valid_at, wrong.start_precision),
                [c for c in corrects if c != fid],
            )
        return fact, corrects

    async def _load_entities(self, batch: _Batch, facts: Sequence[Fact]) -> None:
        """Put the object entities of ``facts`` in the batch (names and aliases to match)."""
        missing = sorted({f.object_id for f in facts if f.object_id} - set(batch.entities))
        for ent in await self.store.get_entities(batch.user_id, missing) if missing else []:
            if ent.user_id == batch.user_id:
                batch.entities.setdefault(ent.id, ent)

    async def _load_candidates(self, batch: _Batch, subject_id: str, predicate: str) -> None:
        key = (subject_id, predicate)
        if key in batch.loaded_keys:
            return
        batch.loaded_keys.add(key)
        if subject_id in batch.new_entity_ids and subject_id != SELF_ID:
            return  # an entity first seen in this batch has no stored facts
        # Facts stored under an antonym's own name (``dislikes``, before antonyms were folded
        # into their predicate) meet new facts as what they mean: the predicate, negated. Any
        # that a new fact closes is rewritten in that form.
        stored_as = [predicate] + [
            a.name for a in self.registry.antonyms.values() if a.negates == predicate
        ]
        loaded: list[tuple[str, Fact]] = []
        for name in stored_as:
            query = FactQuery(subject_id=subject_id, predicate=name, limit=_CANDIDATES_PER_KEY)
            loaded.extend((name, f) for f in await self.store.find_facts(batch.user_id, query))
        observed = await self._observed_starts(batch.user_id, [f for _, f in loaded])
        for name, f in loaded:
            if f.id in batch.facts:
                continue
            if f.id in observed:
                f = f.model_copy(update={"start_precision": "unknown"})
            if name != predicate:
                negative = f.polarity == "positive"
                f = f.model_copy(
                    update={
                        "predicate": predicate,
                        "polarity": "negative" if negative else "positive",
                    }
                )
            batch.put(f, changed=False)

    async def _observed_starts(self, user_id: str, facts: Sequence[Fact]) -> set[str]:
        """Ids of ``facts`` that do not record their start precision and whose start is the
        time of their first message: an observation, not a said start.

        A store that does not keep :attr:`Fact.start_precision` (rows written before it, or
        a backend that has no column for it yet) gives facts back without it; this is how
        the temporal rules still tell "I live in Lisbon" from "I moved to Lisbon then".
        """
        unknown = [f for f in facts if f.start_precision is None and f.valid_at and f.episode_ids]
        if not unknown:
            return set()
        wanted = sorted({f.episode_ids[0] for f in unknown})
        times = {ep.id: ep.occurred_at for ep in await self.store.get_episodes(user_id, wanted)}
        return {f.id for f in unknown if times.get(f.episode_ids[0]) == f.valid_at}

    async def _load_named(self, batch: _Batch, drafts: Sequence[FactDraft]) -> None:
        named = list(
            dict.fromkeys(i for d in drafts for i in (*d.contradicts, *d.restates, *d.corrects))
        )
        if not named:
            return
        found = {
            f.id: f
            for f in await self.store.get_facts(batch.user_id, named)
            if f.user_id == batch.user_id
        }
        for fid in named:
            if fid in found:
                if fid not in batch.facts:
                    batch.put(found[fid], changed=False)
            else:
                batch.report.notes.append(f"fact {fid} named by a draft is unknown; ignored")

    async def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        # Each distinct text once: a batch repeats statements and names ("I live in Paris"
        # from two turns, a name that is also a statement), and the model is most of the cost.
        unique = list(dict.fromkeys(texts))
        vectors = np.asarray(await embed_off_loop(self.embedder, unique), dtype=np.float32)
        if vectors.shape[0] != len(unique):
            raise ValueError(f"embedder returned {vectors.shape[0]} vectors for {len(unique)}")
        if len(unique) == len(texts):
            return vectors
        row = {text: i for i, text in enumerate(unique)}
        return vectors[[row[t] for t in texts]]


def needs_name_vector(name: str) -> bool:
    """Whether an entity name is embedded: only names similarity may link (several words).

    A one-word name is linked by its exact name or alias only, so its vector would never be
    read; skipping it saves about a fifth of the embedding work of a typical batch.
    """
    return has_words(name) and not _is_self(name)


def _with_object(
    fact: Fact, object_id: str, valid_at: datetime | None, precision: StartPrecision | None
) -> Fact:
    """``fact`` about another object entity, over the window of the fact it restates."""
    key = object_key_of(object_id, None, fact.statement, fact.predicate)
    first = fact.episode_ids[0] if fact.episode_ids else normalise_name(fact.statement)
    return fact.model_copy(
        update={
            "id": fact_id_for(fact.subject_id, fact.predicate, key, fact.polarity, valid_at, first),
            "object_id": object_id,
            "valid_at": valid_at,
            "start_precision": precision,
        }
    )


def _is_self(name: str) -> bool:
    return name.strip().casefold() in SELF_NAMES


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return f"{loc}: {err.get('msg', 'invalid')}" if loc else str(err.get("msg", "invalid"))
