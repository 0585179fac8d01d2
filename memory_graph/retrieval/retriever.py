"""Graph-aware hybrid retrieval: from a query to a ranked, dated ``MemoryContext``.

One query embedding, then (see DESIGN "Retrieval"):

1. candidates: vector and full-text search over facts and episodes; names in the query
   linked to the user's entities;
2. expansion: the neighbourhood of linked entities (and of the best facts' ends) loaded into
   networkx and ranked by personalised PageRank;
3. fusion: reciprocal rank fusion of every leg; validity (current facts first unless the
   question is about the past or ``as_of`` is given), people and dates the query names,
   recency; a fact lends its score to the messages it came from and a message to its
   neighbouring turns; near-duplicates dropped;
4. output: facts with validity windows, earlier values of the functional predicates the
   query is about, supporting messages, rendered under a token budget.

Vectors never come back from the store: searches return ids and scores only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from memlane.memory_graph.embedding.port import Embedder, embed_off_loop
from memlane.memory_graph.model import SELF_ID, Entity, Episode, Fact, FactQuery
from memlane.memory_graph.naming import Names, names_from
from memlane.memory_graph.plans import planned_for
from memlane.memory_graph.predicates import PredicateRegistry, default_registry
from memlane.memory_graph.retrieval.config import PRESETS, RetrievalConfig
from memlane.memory_graph.retrieval.context import (
    ContextEpisode,
    ContextFact,
    MemoryContext,
    count_tokens,
    render,
)
from memlane.memory_graph.retrieval.fusion import Scores, dedup, overlaps, recency
from memlane.memory_graph.retrieval.query import (
    QueryInfo,
    analyse_query,
    hint_table,
    mentions,
    name_ngrams,
    predicate_hints,
    subjects,
)
from memlane.memory_graph.retrieval.unnamed import NameVectors
from memlane.memory_graph.retrieval.walk import personalised_pagerank
from memlane.memory_graph.stores.base import GraphStore, Hit
from memlane.memory_graph.timeutil import utcnow

__all__ = [
    "PRESETS",
    "ContextEpisode",
    "ContextFact",
    "MemoryContext",
    "RetrievalConfig",
    "Retriever",
    "count_tokens",
]

log = logging.getLogger(__name__)

_PROFILE_READ = 3
"""Values of one profile predicate read for the header, newest first: the newest true at the
time is the first; a few more cost nothing."""


@dataclass
class _Call:
    """The working state of one recall (the Retriever keeps nothing of a user between
    calls; only the vectors of names it has embedded, :class:`NameVectors`)."""

    user_id: str
    info: QueryInfo
    as_of: datetime | None
    now: datetime
    facts: Scores = field(default_factory=Scores)
    eps: Scores = field(default_factory=Scores)
    pool: dict[str, Fact] = field(default_factory=dict)
    episodes: dict[str, Episode] = field(default_factory=dict)
    # Messages read before they are ranked (the search hits', while the query is embedded).
    read_eps: dict[str, Episode] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    entities: dict[str, Entity] = field(default_factory=dict)
    hints: set[str] = field(default_factory=set)
    lend: dict[str, float] = field(default_factory=dict)
    profile: list[Fact] = field(default_factory=list)
    named: list[Fact] = field(default_factory=list)  # the user's name facts (``_names``)
    # The user is spoken of in the third person ("how old is Keisha?", "where does she
    # work?"): they are the question's subject, so their facts gain as a named person's do.
    self_named: bool = False
    # A relational mention resolved ("her sister" -> Tamara): the anchors whose relation led
    # there, and the predicates of those relations. The other predicates the query names
    # ("where does her sister live") are asked of the target, not of the anchor.
    anchors: set[str] = field(default_factory=set)
    relations: set[str] = field(default_factory=set)
    # The people a query names as its joined subject ("what do Jon and Gina both like"):
    # each one's best items rank alike, so the context holds both halves of the answer.
    joined: set[str] = field(default_factory=set)

    @property
    def past_view(self) -> bool:
        return self.as_of is not None or self.info.about_past

    @property
    def when(self) -> datetime:
        """The time the world is read at: ``as_of``, else now."""
        return self.as_of or self.now

    def holds(self, fact: Fact) -> bool:
        """True at :attr:`when`: current means true now, not "never closed" (a value a
        future start will end is current until then; a start to come is not yet)."""
        return fact.valid_during(self.when)


class Retriever:
    """Finds what a user's memory holds about a query.

    Args:
        store: the graph store (opened by the caller).
        embedder: the same embedder the memories were indexed with.
        registry: predicate registry (which predicates are functional).
        config: a :class:`RetrievalConfig`; defaults to the ``balanced`` preset.
    """

    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        registry: PredicateRegistry | None = None,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.registry = registry or default_registry()
        self.config = config or PRESETS["balanced"]
        self._hints = hint_table(self.registry)
        self._name_vectors = NameVectors()

    async def recall(
        self,
        user_id: str,
        query: str,
        *,
        as_of: datetime | None = None,
        token_budget: int | None = None,
        now: datetime | None = None,
    ) -> MemoryContext:
        """Rank the user's facts and messages for ``query`` and render them.

        Args:
            user_id: whose memory (every store call is scoped by it).
            query: the question or turn (validated by the caller, e.g. ``Memory.recall``).
            as_of: only facts true at that time and messages said by then.
            token_budget: cap on the rendered text; defaults to the config's.
            now: what "current" is decided at without ``as_of`` (``Memory.recall`` passes
                its clock); a start still to come is not shown until it arrives.

        Returns:
            The ranked context; ``facts``/``superseded``/``episodes`` hold exactly what
            ``text`` shows.
        """
        # BLAS and torch threads are the host's to set (the application layer may tune them
        # at start-up); the query is embedded in a worker thread so the loop keeps serving.
        # The query's vector and, when it names people and that leg is on, its reading
        # without the names (``unnamed``), started first: reading the query and the reads
        # that need no vector run meanwhile.
        embedding = self._embed(query)
        try:
            info = analyse_query(query)
            call = _Call(user_id=user_id, info=info, as_of=as_of, now=now or utcnow())
            call.hints = predicate_hints(call.info.words, self.registry, self._hints)
        except BaseException:
            embedding.cancel()  # nobody will wait for it
            raise
        await self._candidates(call, embedding)
        if self.config.expand and self.config.hops > 0 and self.config.expand_limit > 0:
            await self._expand(call)
        call.pool = {fid: f for fid, f in call.pool.items() if _visible(f, call)}
        current, superseded = self._rank_facts(call)
        # Independent reads, made together (a store serves them in one round trip): names,
        # messages, earlier values, ended values. Each touches its own part of the call.
        _, _, history, ended = await asyncio.gather(
            self._load_names(call),
            self._rank_episodes(call, current),
            self._history(call, current),
            self._missing_current(call, current),
        )
        names = names_from(call.when, call.entities, call.named)
        old = [*ended, *history, *superseded]
        return self._context(call, query, current, old, token_budget, names)

    def _embed(self, query: str) -> asyncio.Future[np.ndarray]:
        """The query's vectors (:meth:`_candidates`), in a worker thread from now on."""
        if self.config.w_unnamed <= 0:
            return embed_off_loop(self.embedder, [query])
        texts, names, kept = self._name_vectors.texts(query)
        embedded = embed_off_loop(self.embedder, texts)

        async def vectors() -> np.ndarray:
            return self._name_vectors.vectors(await embedded, names, kept)

        return asyncio.ensure_future(vectors())

    # -- 1. candidates -----------------------------------------------------------------------
    async def _candidates(self, call: _Call, embedding: asyncio.Future[np.ndarray]) -> None:
        """The search legs, linked names and the header; ``embedding``: the query's vector
        (and the vector of the query without its names, when that leg is on)."""
        cfg, store, uid, text = self.config, self.store, call.user_id, call.info.text
        use_eps = cfg.include_episodes

        async def by_vector() -> tuple[list[list[Hit]], list[list[Hit]]]:
            # Both query vectors in one search per target (one pass over each matrix).
            queries = list(await embedding)
            return await asyncio.gather(
                store.search_vectors(uid, "fact", queries, cfg.fact_vector_k),
                store.search_vectors(
                    uid, "episode", queries, cfg.episode_vector_k if use_eps else 0
                ),
            )

        async def by_text() -> tuple[list[Hit], list[Hit], list[Fact], list[Episode]]:
            # The text hits' records are read too: the database is otherwise idle until the
            # query's vector is ready.
            facts, eps = await asyncio.gather(
                store.search_text(uid, "fact", text, cfg.fact_text_k),
                store.search_text(uid, "episode", text, cfg.episode_text_k if use_eps else 0),
            )
            read_facts, read_eps = await asyncio.gather(
                store.get_facts(uid, [h.id for h in facts]),
                store.get_episodes(uid, [h.id for h in eps]),
            )
            return facts, eps, read_facts, read_eps

        try:
            (
                (fact_vecs, ep_vecs),
                (fact_txt, ep_txt, read_facts, read_eps),
                linked,
                (profile, call.named),
            ) = await asyncio.gather(
                by_vector(),
                by_text(),
                store.find_entities(uid, name_ngrams(text)),
                asyncio.gather(self._profile(call), self._names(call)),
            )
        finally:
            embedding.cancel()  # a no-op once done; else nobody waits for it any more
        call.profile = profile
        fact_vec, ep_vec = fact_vecs[0], ep_vecs[0]
        if len(fact_vecs) > 1:
            more_facts, more_eps = fact_vecs[1], ep_vecs[1]
            w = cfg.w_unnamed
            call.facts.add_leg([h.id for h in more_facts], cfg.w_fact * w, cfg.rrf_k, "unnamed")
            call.eps.add_leg([h.id for h in more_eps], w, cfg.rrf_k, "unnamed")
        by_score, k = cfg.w_score, cfg.rrf_k
        call.facts.add_hits(fact_vec, cfg.w_fact * cfg.w_vector, k, "vector", by_score)
        call.facts.add_hits(fact_txt, cfg.w_fact * cfg.w_text, k, "text", by_score)
        call.eps.add_hits(ep_vec, cfg.w_vector, k, "vector", by_score)
        call.eps.add_hits(ep_txt, cfg.w_text, k, "text", by_score)
        call.linked = {e.id for e in linked}
        call.names = {e.id: e.name for e in linked}
        call.entities = {e.id: e for e in linked}
        named = {e.name: e.id for e in linked if e.kind == "person"}
        subject = subjects(text, named)
        call.joined = {named[n] for n in subject} if len(subject) > 1 else set()
        call.self_named = _refers_to_user(call.info, linked, profile)
        if call.info.about_self or call.self_named:
            call.linked.add(SELF_ID)
        read = {f.id: f for f in read_facts}
        call.read_eps = {e.id: e for e in read_eps}
        late_facts, late_eps = await asyncio.gather(
            store.get_facts(uid, [fid for fid in call.facts.score if fid not in read]),
            store.get_episodes(uid, [eid for eid in call.eps.score if eid not in call.read_eps]),
        )
        read.update((f.id, f) for f in late_facts)
        call.read_eps.update((e.id, e) for e in late_eps)
        call.pool = {fid: read[fid] for fid in call.facts.score if fid in read}
        # A header fact the query asks about ranks even when no search leg found it.
        for f in profile:
            if f.predicate in call.hints:
                call.pool.setdefault(f.id, f)

    async def _profile(self, call: _Call) -> list[Fact]:
        """The user's identity facts for the header, in ``profile_predicates`` order.

        One small read per predicate, newest first (subject, predicate and start are indexed),
        not all of the user's own facts: a long-lived user has thousands, and a predicate can
        hold many values true at once; the newest true at the time is kept.
        """
        cfg = self.config
        if cfg.max_profile <= 0:
            return []
        found = await asyncio.gather(
            *(
                self.store.find_facts(
                    call.user_id,
                    FactQuery(
                        subject_id=SELF_ID,
                        predicate=p,
                        as_of=call.when,
                        newest_first=True,
                        limit=_PROFILE_READ,
                    ),
                )
                for p in cfg.profile_predicates
            )
        )
        # Read newest first by the stored start (valid_at, else recorded_at); the latest by
        # ``Fact.start`` among them, which puts a story told later at the end it was told.
        latest = [
            max(kept, key=_latest)
            for kept in ([f for f in facts if not f.is_retracted] for facts in found)
            if kept
        ]
        return latest[: cfg.max_profile]

    # -- 2. expansion ------------------------------------------------------------------------
    async def _expand(self, call: _Call) -> None:
        """Neighbourhood of the linked entities and the best facts' ends, ranked by PageRank."""
        cfg, facts = self.config, call.facts
        seeds = set(call.linked)
        for fid in facts.top(3):
            f = call.pool.get(fid)
            if f is not None:
                seeds.update(e for e in (f.subject_id, f.object_id) if e)
        if not seeds:
            return
        near = await self.store.neighbourhood(
            call.user_id, sorted(seeds), hops=cfg.hops, limit=cfg.expand_limit
        )
        for f in near:
            call.pool.setdefault(f.id, f)
        await self._relational(call)
        edges: list[tuple[tuple[str, str], tuple[str, str]]] = []
        for f in call.pool.values():
            if not f.is_retracted:
                edges.append((("f", f.id), ("e", f.subject_id)))
                if f.object_id:
                    edges.append((("f", f.id), ("e", f.object_id)))
        graph = {node for edge in edges for node in edge}
        personal: dict[tuple[str, str], float] = {}
        # Named and relationally linked entities seed the walk more than the search hits do;
        # the user themself is linked by any "I"/"my" and touches everything, so less.
        for eid in call.linked:
            if ("e", eid) in graph:
                personal[("e", eid)] = 0.3 if eid == SELF_ID else 1.0
        top = [fid for fid in facts.top(10) if ("f", fid) in graph]
        total = sum(facts.score[fid] for fid in top) or 1.0
        for fid in top:
            personal[("f", fid)] = facts.score[fid] / total
        if not personal:
            return
        ranks = personalised_pagerank(
            edges, personal, alpha=cfg.pagerank_alpha, max_iter=50, tol=1e-4
        )
        ranked = sorted(
            (node[1] for node in ranks if node[0] == "f" and ranks[node] > 0),
            key=lambda fid: (-ranks[("f", fid)], fid),
        )[: cfg.graph_k]
        if not ranked or cfg.w_graph <= 0:
            return
        # By PageRank mass, not rank: the many spokes of a hub (every note about a person)
        # share its mass and gain little, while a fact at the end of a named path gains much.
        peak = ranks[("f", ranked[0])]
        for fid in ranked:
            facts.add(fid, cfg.w_graph * (ranks[("f", fid)] / peak) / (cfg.rrf_k + 1), "graph")

    async def _relational(self, call: _Call) -> None:
        """Relational mentions: "my sister" links the object of the user's has_sibling facts,
        an entity, or the entity a value names (a sibling stored by name as a value)."""
        targets: set[str] = set()
        values: list[str] = []
        for f in list(call.pool.values()):
            relational = f.predicate in call.hints and f.subject_id in call.linked
            if not relational or not (call.holds(f) or call.past_view) or f.is_retracted:
                continue
            if f.object_id:
                targets.add(f.object_id)
            elif f.value:
                values.append(f.value)
            else:
                continue
            call.anchors.add(f.subject_id)
            call.relations.add(f.predicate)
        if values:
            for e in await self.store.find_entities(call.user_id, values):
                targets.add(e.id)
                call.names.setdefault(e.id, e.name)
        targets -= call.anchors
        if not targets:
            call.anchors.clear()
            call.relations.clear()
        call.linked |= targets

    def _about(self, call: _Call, f: Fact) -> tuple[bool, bool]:
        """Whether ``f`` is about a person the query names (mention) and whether it is that
        person's fact of a predicate the query names (path)."""
        if f.subject_id not in call.linked:
            return False, False
        anchor = f.subject_id in call.anchors
        named = not anchor and (f.subject_id != SELF_ID or call.self_named)
        path = f.predicate in call.hints and (not anchor or f.predicate in call.relations)
        return named, path

    async def _load_names(self, call: _Call) -> None:
        wanted: set[str] = set()
        for f in [*call.pool.values(), *call.profile]:
            wanted.update(e for e in (f.subject_id, f.object_id) if e and e not in call.names)
        if wanted:
            for e in await self.store.get_entities(call.user_id, sorted(wanted)):
                call.names[e.id] = e.name
                call.entities[e.id] = e

    async def _names(self, call: _Call) -> list[Fact]:
        """The user's name facts, to read the chosen statements with current names (a name
        corrected since a statement was written reads right; ``names_from``)."""
        return await self.store.find_facts(
            call.user_id,
            FactQuery(subject_id=SELF_ID, predicate="name", include_retracted=True, limit=50),
        )

    # -- 3. fusion and rerank ----------------------------------------------------------------
    def _rank_facts(self, call: _Call) -> tuple[list[str], list[str]]:
        """Validity, mention, date and recency factors; split current from superseded."""
        cfg, facts, window = self.config, call.facts, call.info.window
        # The query names a linked subject's predicate ("my diet", "my sister"): those facts
        # answer it, whether or not their wording matched the query's, so they join as a leg
        # of their own (current first) before the factors below.
        named = [f for f in call.pool.values() if self._about(call, f)[1]]
        named.sort(key=lambda f: (not call.holds(f), -f.start.timestamp(), f.id))
        facts.add_leg([f.id for f in named], cfg.w_fact * cfg.w_text, cfg.rrf_k, "predicate")
        facts.keep(call.pool)
        reference = call.as_of or max((f.start for f in call.pool.values()), default=None)
        current: list[str] = []
        superseded: list[str] = []
        for fid in list(facts.score):
            f = call.pool[fid]
            score = facts.score[fid]
            if not call.holds(f) and not call.past_view:
                score *= cfg.superseded_weight
                superseded.append(fid)
            else:
                current.append(fid)
            # What a fact lends its source messages: they get their own name/date factors.
            call.lend[fid] = score
            mention, path = self._about(call, f)
            if mention:
                score *= 1.0 + cfg.mention_boost
            if path:
                # The query names both ends of this edge: "where does my sister live".
                score *= 1.0 + cfg.path_boost
            if window and overlaps(f, *window):
                score *= 1.0 + cfg.date_boost
            score *= recency(f.start, reference, cfg.w_recency, cfg.recency_half_life_days)
            facts.score[fid] = score
        if call.joined:
            _balance(
                facts.score, {fid: call.pool[fid].subject_id for fid in facts.score}, call.joined
            )
        current.sort(key=lambda r: (-facts.score[r], r))
        superseded.sort(key=lambda r: (-facts.score[r], r))
        return current, superseded

    async def _rank_episodes(self, call: _Call, current: list[str]) -> None:
        cfg, eps, as_of = self.config, call.eps, call.as_of
        if not cfg.include_episodes:
            eps.keep(())
            return
        # A fact's provenance is evidence too: the message it came from gains its score.
        if cfg.fact_to_episode > 0:
            for fid in current[: max(2 * cfg.max_facts, 40)]:
                for eid in call.pool[fid].episode_ids:
                    eps.add(eid, cfg.fact_to_episode * call.lend[fid], "fact")
        read = call.read_eps
        missing = [eid for eid in eps.score if eid not in read]
        if missing:
            read.update((e.id, e) for e in await self.store.get_episodes(call.user_id, missing))
        call.episodes = {
            eid: ep
            for eid in eps.score
            if (ep := read.get(eid)) is not None and (as_of is None or ep.occurred_at <= as_of)
        }
        eps.keep(call.episodes)
        speakers = {ep.speaker for ep in call.episodes.values() if ep.speaker}
        named = {s for s in speakers if mentions(call.info.text, s)}
        subject = subjects(call.info.text, named)
        window = call.info.window
        reference = as_of or max((ep.occurred_at for ep in call.episodes.values()), default=None)
        for eid, ep in call.episodes.items():
            score = eps.score[eid]
            if ep.speaker in named:
                score *= 1.0 + cfg.mention_boost
            if window and window[0] <= ep.occurred_at < window[1]:
                score *= 1.0 + cfg.date_boost
            score *= recency(ep.occurred_at, reference, cfg.w_recency, cfg.recency_half_life_days)
            eps.score[eid] = score
        if cfg.adjacent_top > 0:
            await self._adjacent(call)
        if len(subject) > 1:
            _balance(eps.score, {eid: ep.speaker for eid, ep in call.episodes.items()}, subject)

    async def _adjacent(self, call: _Call) -> None:
        """The turns just before and after the best messages, and their speakers' own turns
        two before and after, gain a share of their score."""
        cfg, eps = self.config, call.eps
        top = [eid for eid in eps.top(cfg.adjacent_top) if call.episodes[eid].session_id]
        around = await self.store.episodes_around(call.user_id, top, 2, 2)
        snapshot = {eid: eps.score[eid] for eid in top if eid in around}
        for eid, score in snapshot.items():
            session_turns = around[eid]
            i = next(n for n, ep in enumerate(session_turns) if ep.id == eid)
            speaker = call.episodes[eid].speaker
            # The speaker's own turns either side (a reply in between) go on their story.
            steps = (
                (i - 1, cfg.adjacent_prev),
                (i + 1, cfg.adjacent_next),
                (i - 2, cfg.adjacent_own),
                (i + 2, cfg.adjacent_own),
            )
            for j, share in steps:
                if share <= 0 or not 0 <= j < len(session_turns):
                    continue
                nb = session_turns[j]
                if abs(j - i) == 2 and (speaker is None or nb.speaker != speaker):
                    continue
                if call.as_of is None or nb.occurred_at <= call.as_of:
                    call.episodes.setdefault(nb.id, nb)
                    eps.add(nb.id, share * score, "adjacent")

    async def _history(self, call: _Call, current: list[str]) -> list[str]:
        """Earlier values of the functional predicates of the best current facts."""
        cfg = self.config
        if cfg.max_superseded <= 0 or call.past_view:
            return []
        wanted = [
            call.pool[fid]
            for fid in current[:3]
            if call.holds(call.pool[fid]) and self.registry.is_functional(call.pool[fid].predicate)
        ]
        found = await asyncio.gather(
            *(
                self.store.find_facts(
                    call.user_id,
                    FactQuery(
                        subject_id=f.subject_id, predicate=f.predicate, newest_first=True, limit=20
                    ),
                )
                for f in wanted
            )
        )
        out: list[str] = []
        for parent, olds in zip(wanted, found, strict=True):
            for old in sorted(olds, key=_latest, reverse=True):
                if call.holds(old) or not _visible(old, call) or old.id in call.pool:
                    continue
                call.pool[old.id] = old
                call.facts.add(
                    old.id, call.facts.score[parent.id] * cfg.superseded_weight, "history"
                )
                out.append(old.id)
        if out:
            await self._load_names(call)
        return out

    async def _missing_current(self, call: _Call, current: list[str]) -> list[str]:
        """Ended values of a functional predicate the query names, for a linked subject that
        has no current one ("what did he do for work?" after a job ended with no successor):
        the last known value is the best answer memory has."""
        if call.past_view:
            return []  # ended facts already rank with the current ones
        subjects = call.linked or {SELF_ID}
        hinted = sorted(p for p in call.hints if self.registry.is_functional(p))
        have = {(call.pool[fid].subject_id, call.pool[fid].predicate) for fid in current}
        asks = [(s, p) for s in sorted(subjects) for p in hinted if (s, p) not in have]
        if not asks:
            return []
        found = await asyncio.gather(
            *(
                self.store.find_facts(
                    call.user_id,
                    FactQuery(subject_id=s, predicate=p, newest_first=True, limit=20),
                )
                for s, p in asks
            )
        )
        best = max((call.facts.score[fid] for fid in current), default=1.0)
        out: list[str] = []
        for olds in found:
            closed = [f for f in olds if _visible(f, call)]
            if any(call.holds(f) for f in closed) or not closed:
                continue
            last = max(closed, key=_latest)
            call.pool[last.id] = last
            call.facts.add(last.id, max(best - call.facts.score.get(last.id, 0.0), 0.0), "ended")
            out.append(last.id)
        if out:
            await self._load_names(call)
        return out

    # -- 4. output ---------------------------------------------------------------------------
    def _context(
        self,
        call: _Call,
        query: str,
        current: list[str],
        old: list[str],
        token_budget: int | None,
        names: Names,
    ) -> MemoryContext:
        cfg, facts, eps = self.config, call.facts, call.eps
        # The profile header shows the user's identity facts once, outside the ranked slots;
        # one of them ranks too only when the query asks about its predicate.
        in_header = {f.id for f in call.profile if f.predicate not in call.hints}
        ranked = [fid for fid in current if fid not in in_header]
        pool, episodes = call.pool, call.episodes
        best_facts = dedup(ranked, lambda r: pool[r].statement, cfg.dedup_jaccard, cfg.max_facts)
        shown = set(best_facts)
        best_old = [fid for fid in dict.fromkeys(old) if fid not in shown][: cfg.max_superseded]
        best_eps = dedup(
            eps.top(len(eps.score)),
            lambda r: episodes[r].content,
            cfg.dedup_jaccard,
            cfg.max_episodes,
        )

        def ctx_fact(fid: str) -> ContextFact:
            f = call.pool[fid]
            statement = names.statement(f)
            plan = self.registry.is_plan(f.predicate)
            return ContextFact(
                fact=f
                if statement == f.statement
                else f.model_copy(update={"statement": statement}),
                planned_for=planned_for(f) if plan else None,
                score=facts.score.get(fid, 0.0),
                subject_name=call.names.get(f.subject_id, f.subject_id),
                object_name=call.names.get(f.object_id, f.object_id) if f.object_id else f.value,
                sources=facts.sources(fid),
            )

        for f in call.profile:
            call.pool.setdefault(f.id, f)
        kept_profile, kept_facts, kept_old, kept_eps, text, tokens = render(
            [ctx_fact(f.id) for f in call.profile],
            [ctx_fact(fid) for fid in best_facts],
            [ctx_fact(fid) for fid in best_old],
            [
                ContextEpisode(
                    episode=call.episodes[eid],
                    score=eps.score[eid],
                    sources=eps.sources(eid),
                )
                for eid in best_eps
            ],
            token_budget=token_budget or cfg.token_budget,
            snippet_chars=cfg.snippet_chars,
            cited_messages=cfg.cited_messages,
        )
        return MemoryContext(
            user_id=call.user_id,
            query=query,
            as_of=call.as_of,
            profile=kept_profile,
            facts=kept_facts,
            superseded=kept_old,
            episodes=kept_eps,
            text=text,
            tokens=tokens,
        )


def _balance(score: dict[str, float], owner: dict[str, str | None], people: set[str]) -> None:
    """Scale each person's items so that every one of ``people`` has their best item at the
    best score: "what have Jon and Gina both done" wants each one's evidence, and one of
    them having more (or better-matching) messages must not crowd the other out."""
    best: dict[str, float] = {}
    for rid, value in score.items():
        who = owner.get(rid)
        if who in people:
            best[who] = max(best.get(who, 0.0), value)
    if len(best) < 2:
        return
    peak = max(best.values())
    for rid in score:
        who = owner.get(rid)
        if who in best and best[who] > 0:
            score[rid] *= peak / best[who]


def _refers_to_user(info: QueryInfo, linked: list[Entity], profile: list[Fact]) -> bool:
    """The query speaks of the user in the third person: by their name (their ``name``
    fact), or by a pronoun when it names no other person ("where does she work?")."""
    names = [f.value for f in profile if f.predicate == "name" and f.value]
    if any(mentions(info.text, name) for name in names):
        return True
    return info.third_person and not any(e.kind == "person" for e in linked)


def _latest(fact: Fact) -> tuple[datetime, str]:
    """Order of "newest": by start (a story's start is its told end), then id."""
    return fact.start, fact.id


def _visible(fact: Fact, call: _Call) -> bool:
    """Part of the world read: true at ``as_of``; without one, anything ever true by now (a
    start still to come is not shown until it arrives)."""
    if fact.is_retracted:
        return False
    if call.as_of is not None:
        return fact.valid_during(call.as_of)
    return fact.valid_at is None or fact.valid_at <= call.now
