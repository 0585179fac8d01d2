"""``Memory``: the Python API of the memory graph (no LLM): ingest, recall, inspect, forget.

One async core. The agent, the tools layer, the CLI and the evaluations all go through this
class, so every path shares reconciliation (:mod:`memlane.memory_graph.reconcile`) and retrieval
(:mod:`memlane.memory_graph.retrieval.retriever`). Every method takes the ``user_id`` it reads or
writes and
validates it; nothing reads across users.

Example::

    async with open_store("sqlite:///memory.db") as store:
        memory = Memory(store, make_embedder("minilm"))
        await memory.commit("u1", [FactDraft(predicate="lives_in", object="Paris",
                                             statement="I live in Paris")])
        context = await memory.recall("u1", "where do I live?")
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from memlane.memory_graph.drafts import SELF_NAMES, FactDraft
from memlane.memory_graph.embedding.port import Embedder, embed_off_loop
from memlane.memory_graph.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    UnknownPredicateError,
)
from memlane.memory_graph.jobs import ExtractionJob
from memlane.memory_graph.limits import MAX_QUERY_CHARS
from memlane.memory_graph.model import (
    ID_PATTERN,
    SELF_ID,
    Entity,
    Episode,
    Fact,
    FactQuery,
    WriteSet,
    normalise_name,
)
from memlane.memory_graph.plans import planned_for
from memlane.memory_graph.predicates import PredicateRegistry, default_registry
from memlane.memory_graph.reconcile import (
    CommitReport,
    Reconciler,
    check_user_id,
    needs_name_vector,
)
from memlane.memory_graph.retrieval.index import episode_index_texts
from memlane.memory_graph.stores.base import GraphStore
from memlane.memory_graph.timeutil import parse_time, utcnow

if TYPE_CHECKING:
    from memlane.memory_graph.retrieval.retriever import MemoryContext, RetrievalConfig, Retriever

__all__ = ["MAX_QUERY_CHARS", "CommitReport", "Memory"]

log = logging.getLogger(__name__)

_RRF_K = 60
# A commit that keeps meeting other writers of the same user gives up after this many tries.
_COMMIT_ATTEMPTS = 8
_ALL = 1_000_000
_ID = re.compile(ID_PATTERN)

TimeArg = datetime | date | str | None


class Memory:
    """A user-scoped temporal memory over one :class:`GraphStore`.

    Attributes:
        store: the graph store (opened by the caller).
        embedder: turns text into vectors (statements, episodes, entity names, queries).
        registry: the predicate registry facts are canonicalised against.
        clock: returns "now" (injectable for tests and simulations).
    """

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        *,
        registry: PredicateRegistry | None = None,
        retrieval: str | RetrievalConfig = "balanced",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.registry = registry or default_registry()
        self.clock = clock
        self.retrieval = retrieval
        self._reconciler = Reconciler(store, embedder, self.registry, clock=clock)
        self._retrievers: dict[str, Retriever] = {}
        # Commits of one user are serialised: each reads the graph it then writes.
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, user_id: str) -> asyncio.Lock:
        return self._locks.setdefault(user_id, asyncio.Lock())

    # -- writes ------------------------------------------------------------------------------
    async def add_episodes(
        self, episodes: Sequence[Episode], *, jobs: Sequence[ExtractionJob] = ()
    ) -> CommitReport:
        """Store messages as episodes (no extraction), with their embeddings.

        Each message is embedded from its index text (speaker and the turn before it in its
        session, :func:`~memlane.memory_graph.retrieval.index.episode_index_texts`), as every writer
        embeds messages.

        Idempotent: an episode whose ``(user_id, id)`` is already stored is skipped and left
        unchanged.

        Args:
            episodes: messages of ONE user.
            jobs: extraction jobs written in the same atomic write (the agent stores a
                turn's messages and the extraction it owes them together).

        Returns:
            How many episodes were added and skipped.

        Raises:
            InputError: the episodes belong to more than one user.
        """
        if not episodes:
            return CommitReport(user_id="")
        user_id = check_user_id(episodes[0].user_id)
        others = sorted({ep.user_id for ep in episodes} - {user_id})
        if others:
            raise InputError(
                f"add_episodes takes episodes of one user; got {user_id!r} and {others[0]!r}",
                where="episodes",
            )
        async with self._lock(user_id):
            fresh, skipped = await self._reconciler.new_episodes(user_id, episodes)
            report = CommitReport(
                user_id=user_id, episodes_added=len(fresh), episodes_skipped=skipped
            )
            if fresh or jobs:
                texts = await episode_index_texts(self.store, user_id, fresh) if fresh else []
                vectors = await embed_off_loop(self.embedder, texts) if fresh else None
                await self.store.apply(
                    WriteSet(
                        user_id=user_id,
                        episodes=list(fresh),
                        episode_vectors=(
                            {ep.id: vectors[i] for i, ep in enumerate(fresh)}
                            if vectors is not None
                            else {}
                        ),
                        jobs=list(jobs),
                    )
                )
        return report

    async def record_jobs(self, user_id: str, jobs: Sequence[ExtractionJob]) -> None:
        """Store extraction jobs' new states (one atomic write)."""
        user_id = check_user_id(user_id)
        if jobs:
            async with self._lock(user_id):
                await self.store.apply(WriteSet(user_id=user_id, jobs=list(jobs)))

    async def jobs(
        self,
        user_id: str | None,
        statuses: Sequence[str] = ("pending", "failed"),
        *,
        ids: Sequence[str] | None = None,
        limit: int = 10_000,
    ) -> list[ExtractionJob]:
        """Extraction jobs of one user (or every user) in these states, oldest first
        (only those of ``ids`` when given)."""
        if user_id is not None:
            check_user_id(user_id)
        return await self.store.find_jobs(user_id, tuple(statuses), ids=ids, limit=limit)

    async def commit(
        self,
        user_id: str,
        drafts: Sequence[FactDraft],
        episodes: Sequence[Episode] = (),
        *,
        jobs: Sequence[ExtractionJob] = (),
    ) -> CommitReport:
        """Reconcile proposed facts against the user's graph and apply them atomically.

        Episodes, new entities, new facts and the facts they close land as one write set:
        all or nothing. Bring-your-own facts and the agent's extraction both come here.

        Args:
            user_id: whose graph.
            drafts: proposed facts (from a model or a facts file).
            episodes: the messages they came from; stored if new.
            jobs: extraction jobs written in the same atomic write (``done`` with its facts).

        Returns:
            What was added, closed and merged, with notes.

        Raises:
            UnknownPredicateError: a draft names an unregistered predicate.
            InputError: invalid user id, draft or episode; nothing is written.
        """
        check_user_id(user_id)
        async with self._lock(user_id):
            report = await self._reconcile_and_apply(user_id, drafts, episodes, jobs)
        log.info(
            "commit %s: +%d facts, %d closed, %d merged, +%d episodes",
            user_id,
            report.facts_added,
            report.facts_closed,
            report.facts_merged,
            report.episodes_added,
        )
        return report

    async def _reconcile_and_apply(
        self,
        user_id: str,
        drafts: Sequence[FactDraft],
        episodes: Sequence[Episode],
        jobs: Sequence[ExtractionJob] = (),
    ) -> CommitReport:
        """Reconcile against the graph as read and apply only if nobody wrote in between.

        The in-process lock orders this process's commits; another process (a replica over
        the same graph server) is ordered by the store: the write set carries the user's
        write version read before reconciling, and a write by anyone since makes the store
        refuse it whole. Then the turn is reconciled again against the graph as it is now.
        """
        for attempt in range(_COMMIT_ATTEMPTS):
            version = await self.store.write_version(user_id)
            writes, report = await self._reconciler.reconcile(user_id, drafts, episodes)
            writes.jobs.extend(jobs)
            if writes.is_empty():
                return report
            writes.if_version = version
            try:
                await self.store.apply(writes)
                return report
            except ConflictError:
                if attempt == _COMMIT_ATTEMPTS - 1:
                    raise
                log.info("commit %s: another writer came first; reconciling again", user_id)
                # Jitter, so writers that collided do not collide again in step.
                await asyncio.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise AssertionError("unreachable")

    async def apply(self, writes: WriteSet, *, expect_unchanged: Sequence[Fact] = ()) -> None:
        """Apply a prepared write set atomically, serialised with the user's other writes.

        For callers that build records themselves (corrections, tools) rather than going
        through :meth:`commit`: they must not interleave with a commit of the same user.

        Args:
            writes: the records to write (one user's).
            expect_unchanged: facts the write set was derived from, as the caller read them;
                if any of them changed or vanished since, nothing is written.

        Raises:
            InputError: invalid user id.
            ConflictError: a fact in ``expect_unchanged`` changed since it was read.
        """
        user_id = check_user_id(writes.user_id)
        async with self._lock(user_id):
            if expect_unchanged:
                # The version read before the check: a writer in another process between
                # the check and the write makes the store refuse it.
                if writes.if_version is None:
                    writes.if_version = await self.store.write_version(user_id)
                ids = [f.id for f in expect_unchanged]
                now = {f.id: f for f in await self.store.get_facts(user_id, ids)}
                stale = [f.id for f in expect_unchanged if now.get(f.id) != f]
                if stale:
                    raise ConflictError(
                        f"fact {stale[0]!r} changed while this write was prepared; try again",
                        where="fact_id",
                    )
            await self.store.apply(writes)

    async def delete_facts(self, user_id: str, fact_ids: Sequence[str]) -> int:
        """Delete facts of a user by id (unknown ids are skipped); returns how many went."""
        check_user_id(user_id)
        async with self._lock(user_id):
            return await self.store.delete_facts(user_id, list(fact_ids))

    # -- reads -------------------------------------------------------------------------------
    async def candidates(self, user_id: str, text: str, k: int = 20) -> list[Fact]:
        """Existing facts an extraction step should see for ``text``: current first, at most k.

        Full-text and vector search over the user's facts, fused by reciprocal rank. Ended
        facts whose value the text names ("back when I lived in Lisbon") rank with the current
        ones: a story about a past period must see that period to be placed in it; so do
        plans that came to their date (:mod:`memlane.memory_graph.plans`).

        Raises:
            InputError: invalid user id, empty text or k < 1.
        """
        check_user_id(user_id)
        text = _check_query(text, where="text")
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}", where="k")
        vector = (await embed_off_loop(self.embedder, [text]))[0]
        by_text = await self.store.search_text(user_id, "fact", text, 2 * k)
        by_vector = await self.store.search_vector(user_id, "fact", vector, 2 * k)
        scores: dict[str, float] = {}
        for hits in (by_text, by_vector):
            for rank, hit in enumerate(hits):
                scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (_RRF_K + rank + 1)
        ranked = sorted(scores, key=lambda i: -scores[i])
        found = [f for f in await self.store.get_facts(user_id, ranked) if not f.is_retracted]
        said = f" {normalise_name(text)} "
        ended_objects = [f.object_id for f in found if f.object_id and not f.is_current]
        names: dict[str, list[str]] = {
            e.id: [e.name, *e.aliases]
            for e in await self.store.get_entities(user_id, list(dict.fromkeys(ended_objects)))
        }

        def named(fact: Fact) -> bool:
            values = names.get(fact.object_id or "", []) + ([fact.value] if fact.value else [])
            return any(f" {normalise_name(v)} " in said for v in values if normalise_name(v))

        def due(fact: Fact) -> bool:
            # A plan that came to its date: the news of it (it happened, it fell through) is
            # what a later message brings, so it ranks with the current facts.
            return self.registry.is_plan(fact.predicate) and planned_for(fact) is not None

        found.sort(key=lambda f: (not (f.is_current or named(f) or due(f)), -scores[f.id]))
        return found[:k]

    async def recall(
        self,
        user_id: str,
        query: str,
        *,
        as_of: TimeArg = None,
        preset: str | RetrievalConfig | None = None,
        token_budget: int | None = None,
    ) -> MemoryContext:
        """What memlane knows that is relevant to ``query``, rendered for a prompt.

        Args:
            user_id: whose memory.
            query: the question or turn to recall for (non-empty).
            as_of: recall the world as it was at this time (date, datetime or ISO string).
            preset: a named retrieval preset or a config; defaults to the Memory's.
            token_budget: cap on the rendered context's tokens.

        Raises:
            InputError: invalid user id, empty or oversized query, unknown preset, bad time.
        """
        check_user_id(user_id)
        query = _check_query(query, where="query")
        when = _time(as_of, "as_of")
        retriever = self._retriever(preset if preset is not None else self.retrieval)
        return await retriever.recall(
            user_id, query, as_of=when, token_budget=token_budget, now=self.clock()
        )

    def _retriever(self, preset: str | RetrievalConfig) -> Retriever:
        from memlane.memory_graph.retrieval.retriever import PRESETS, RetrievalConfig, Retriever

        if isinstance(preset, RetrievalConfig):
            return Retriever(self.store, self.embedder, self.registry, preset)
        if preset not in PRESETS:
            raise InputError(
                f"unknown retrieval preset {preset!r}; known: {', '.join(sorted(PRESETS))}",
                where="preset",
            )
        if preset not in self._retrievers:
            self._retrievers[preset] = Retriever(
                self.store, self.embedder, self.registry, PRESETS[preset]
            )
        return self._retrievers[preset]

    async def facts(
        self,
        user_id: str,
        *,
        as_of: TimeArg = None,
        subject: str | None = None,
        predicate: str | None = None,
        current_only: bool = False,
    ) -> list[Fact]:
        """Facts of a user, ordered by when they became true.

        Args:
            user_id: whose memory.
            as_of: only facts true at this time in the user's world.
            subject: an entity name, alias or id; ``"user"``/``"I"`` is the user themself.
            predicate: a predicate or a synonym of one; an antonym (``dislikes``) reads the
                negative facts of the predicate it negates (``likes``).
            current_only: only facts true now (as of the memory's clock), as memlane
                believes now; the same as ``as_of=now``.

        Returns:
            Matching facts (retracted ones never).

        Raises:
            NotFoundError: ``subject`` names no entity of this user.
            InputError: invalid user id, predicate or time.
        """
        check_user_id(user_id)
        name, negated = self._predicate(predicate) if predicate else (None, False)
        when = _time(as_of, "as_of")
        if current_only and when is None:
            # "Current" is "true now": a start still to come (a plan, a future-dated import)
            # is not current yet, and becomes so when its date arrives, with no write; a
            # value that a future start will end is still current until then.
            when, current_only = self.clock(), False
        query = FactQuery(
            subject_id=await self._subject_id(user_id, subject) if subject else None,
            predicate=name,
            as_of=when,
            current_only=current_only,
            limit=_ALL,
        )
        return _negative_if(negated, await self.store.find_facts(user_id, query))

    async def history(self, user_id: str, subject: str, predicate: str) -> list[Fact]:
        """Every value ``subject``'s ``predicate`` has had, oldest first, closed ones included.

        Retracted facts are included too (they are history of belief). An antonym
        (``dislikes``) reads the negative facts of the predicate it negates.

        Raises:
            NotFoundError: ``subject`` names no entity of this user.
            InputError: invalid user id or predicate.
        """
        check_user_id(user_id)
        name, negated = self._predicate(predicate)
        query = FactQuery(
            subject_id=await self._subject_id(user_id, subject),
            predicate=name,
            include_retracted=True,
            limit=_ALL,
        )
        found = _negative_if(negated, await self.store.find_facts(user_id, query))
        return sorted(found, key=lambda f: (f.start, f.recorded_at, f.id))

    async def entities(self, user_id: str) -> list[Entity]:
        """Every entity of a user (people, places, things, and the user themself)."""
        check_user_id(user_id)
        return await self.store.list_entities(user_id, limit=_ALL)

    async def episodes(self, user_id: str, ids: Sequence[str]) -> list[Episode]:
        """Episodes of a user by id (unknown ids are skipped): the provenance of facts."""
        check_user_id(user_id)
        return await self.store.get_episodes(user_id, list(ids))

    async def forget(self, user_id: str) -> dict[str, int]:
        """Delete everything memlane holds about a user; returns counts deleted per type."""
        check_user_id(user_id)
        async with self._lock(user_id):
            return await self.store.forget_user(user_id)

    async def export(self, user_id: str) -> AsyncIterator[dict[str, Any]]:
        """Every record of a user as JSON-ready dicts (the format of
        :mod:`memlane.memory_graph.io`)."""
        check_user_id(user_id)
        async for record in self.store.export(user_id):
            yield record

    async def import_records(
        self,
        records: AsyncIterable[dict[str, Any]] | Iterable[dict[str, Any]],
        *,
        where_fmt: str = "record {n}",
    ) -> dict[str, int]:
        """Load exported records (of any users) into the store: one atomic write per user.

        Every record is validated before anything is written. Records exported without a
        vector are embedded here. Episodes already stored are left unchanged; entities and
        facts are upserts by ``(user_id, id)``.

        Args:
            records: export records (:mod:`memlane.memory_graph.io` format).
            where_fmt: how errors name a record; ``{n}`` is its 1-based position.

        Returns:
            Counts of records read per type, and ``users``.

        Raises:
            InputError: a record is malformed (the error names it); nothing is written.
        """
        from memlane.memory_graph.io import dict_to_writes

        if isinstance(records, AsyncIterable):
            items: list[object] = [r async for r in records]
        else:
            items = list(records)
        batches = dict_to_writes(items, where_fmt=where_fmt)
        for writes in batches:
            check_user_id(writes.user_id)
            await self._fill_vectors(writes)
        counts = {"episodes": 0, "entities": 0, "facts": 0, "users": len(batches)}
        for writes in batches:
            async with self._lock(writes.user_id):
                await self.store.apply(writes)
            counts["episodes"] += len(writes.episodes)
            counts["entities"] += len(writes.entities)
            counts["facts"] += len(writes.facts)
        return counts

    async def _fill_vectors(self, writes: WriteSet) -> None:
        # Records exported by a store that kept no vector (or written by hand) get one here,
        # in one embedder call per write set, so search finds them after import. Messages are
        # embedded from their index text, like every other writer's (the previous turn may be
        # in this write set or already stored).
        todo: list[tuple[dict[str, Any], str, str]] = []
        if any(ep.id not in writes.episode_vectors for ep in writes.episodes):
            texts = await episode_index_texts(self.store, writes.user_id, writes.episodes)
            for ep, text in zip(writes.episodes, texts, strict=True):
                if ep.id not in writes.episode_vectors:
                    todo.append((writes.episode_vectors, ep.id, text))
        for en in writes.entities:
            if en.id not in writes.entity_vectors and needs_name_vector(en.name):
                todo.append((writes.entity_vectors, en.id, en.name))
        for f in writes.facts:
            if f.id not in writes.fact_vectors:
                todo.append((writes.fact_vectors, f.id, f.statement))
        if not todo:
            return
        vectors = await embed_off_loop(self.embedder, [text for _, _, text in todo])
        for (target, rid, _), vec in zip(todo, vectors, strict=True):
            target[rid] = vec

    # -- helpers -----------------------------------------------------------------------------
    def _predicate(self, raw: str) -> tuple[str, bool]:
        """The predicate to read and whether the name negates it; unknown names pass through
        (they find nothing rather than fail a read)."""
        try:
            meaning = self.registry.resolve(raw)
        except UnknownPredicateError:
            return self.registry.term(raw), False
        return meaning.spec.name, meaning.negated

    async def _subject_id(self, user_id: str, subject: str) -> str:
        text = subject.strip()
        if not text:
            raise InputError("subject is empty", where="subject")
        if text.casefold() in SELF_NAMES:
            return SELF_ID
        by_name = await self.store.find_entities(user_id, [text])
        if by_name:
            own = [e for e in by_name if e.name.strip().casefold() == text.casefold()]
            return (own or by_name)[0].id
        by_id = await self.store.get_entities(user_id, [text]) if _looks_like_id(text) else []
        if by_id:
            return by_id[0].id
        raise NotFoundError(f"no entity named {subject!r} for this user", where="subject")


def _negative_if(negated: bool, found: list[Fact]) -> list[Fact]:
    return [f for f in found if f.polarity == "negative"] if negated else found


def _looks_like_id(text: str) -> bool:
    return _ID.match(text) is not None


def _check_query(text: object, *, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InputError("the query is empty; ask something", where=where)
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(
            f"the query is {len(text)} characters; the limit is {MAX_QUERY_CHARS}", where=where
        )
    return text.strip()


def _time(value: TimeArg, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    return parse_time(value, field=field)
