"""Read-only memory queries, written once over :class:`~memlane.memory_graph.memory.Memory`.

Every function takes the memory and the user id first; the CLI, the HTTP API, MCP and the
LangChain tools are thin callers of these.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from memlane.memory_graph.errors import InputError, NotFoundError
from memlane.memory_graph.ids import check_id, check_user_id
from memlane.memory_graph.limits import MAX_K, MAX_QUERY_CHARS
from memlane.memory_graph.model import Fact, FactQuery
from memlane.memory_graph.timeutil import utcnow
from memlane.tools._common import TimeArg, check_text, entity_names, opt_time
from memlane.tools.models import (
    Diff,
    EntityView,
    EpisodeView,
    Explanation,
    Export,
    FactList,
    FactView,
    GraphFilter,
    GraphView,
    History,
    Profile,
    SearchResult,
    Timeline,
    TimelineEvent,
)

if TYPE_CHECKING:
    from memlane.memory_graph.memory import Memory

__all__ = [
    "diff",
    "export",
    "facts",
    "graph",
    "history",
    "profile",
    "search",
    "timeline",
    "why",
]

KIND_ORDER = ("fact", "preference", "trait", "event")


async def _views(memory: Memory, user_id: str, found: list[Fact]) -> list[FactView]:
    names = await entity_names(memory, user_id, found)
    return [FactView.of(f, names) for f in found]


async def _holding(
    memory: Memory, user_id: str, as_of: TimeArg
) -> tuple[datetime | None, list[Fact]]:
    """The time asked about and the facts true then; without a time, the current facts."""
    when = opt_time(as_of, "as_of")
    return when, await memory.facts(user_id, as_of=when, current_only=when is None)


async def profile(memory: Memory, user_id: str, as_of: TimeArg = None) -> Profile:
    """What memlane believes about the user now (or as of a time), grouped by kind.

    A negative fact that ended a positive one of the same value ("I left Acme" after "I work
    at Acme", "I don't like sushi anymore" after "I love sushi") is listed apart, under
    ``no_longer``: it records a change, while the groups say what holds. A negative fact that
    ended nothing ("I don't eat meat") is knowledge in its own right and stays in its group.

    Args:
        memory: the memory to read.
        user_id: whose memory.
        as_of: a time in the user's world; ``None`` means the current facts.
    """
    when, found = await _holding(memory, user_id, as_of)
    enders = await _negations_that_ended(memory, user_id, found)
    views = await _views(memory, user_id, found)
    grouped: dict[str, list[FactView]] = {k: [] for k in KIND_ORDER}
    no_longer: list[FactView] = []
    for view in views:
        if view.id in enders:
            no_longer.append(view)
        else:
            grouped.setdefault(view.kind, []).append(view)
    return Profile(
        user_id=user_id,
        as_of=when,
        facts=grouped,
        no_longer=no_longer,
        count=len(views) - len(no_longer),
    )


async def _negations_that_ended(memory: Memory, user_id: str, found: list[Fact]) -> set[str]:
    """Ids of the negative facts in ``found`` that closed a positive fact of the same value."""
    negative = [f for f in found if f.polarity == "negative"]
    enders: set[str] = set()
    for subject_id, predicate in sorted({(f.subject_id, f.predicate) for f in negative}):
        related = await memory.store.find_facts(
            user_id, FactQuery(subject_id=subject_id, predicate=predicate)
        )
        functional = memory.registry.is_functional(predicate)
        for fact in negative:
            if (fact.subject_id, fact.predicate) != (subject_id, predicate):
                continue
            if any(
                old.polarity == "positive"
                and old.object_key == fact.object_key
                and _replaced(old, fact, functional)
                for old in related
            ):
                enders.add(fact.id)
    return enders


async def search(
    memory: Memory, user_id: str, query: str, as_of: TimeArg = None, k: int = 10
) -> SearchResult:
    """Facts and messages relevant to ``query`` (hybrid, graph-aware retrieval).

    Args:
        memory: the memory to read.
        user_id: whose memory.
        query: what to look for, in plain words.
        as_of: answer as of this time in the user's world (``None``: now).
        k: at most this many facts and this many messages.
    """
    text = check_text(query, "query", MAX_QUERY_CHARS)
    if not 1 <= k <= MAX_K:
        raise InputError(f"must be between 1 and {MAX_K}, got {k}", where="k")
    when = opt_time(as_of, "as_of")
    ctx = await memory.recall(user_id, text, as_of=when)
    picked = [cf.fact for cf in ctx.facts[:k]] + [cf.fact for cf in ctx.superseded[:k]]
    names = await entity_names(memory, user_id, picked)
    return SearchResult(
        user_id=user_id,
        query=text,
        as_of=when,
        facts=[FactView.of(cf.fact, names, cf.score) for cf in ctx.facts[:k]],
        superseded=[FactView.of(cf.fact, names, cf.score) for cf in ctx.superseded[:k]],
        episodes=[EpisodeView.of(ce.episode, ce.score) for ce in ctx.episodes[:k]],
        text=ctx.text,
    )


async def facts(
    memory: Memory,
    user_id: str,
    subject: str | None = None,
    predicate: str | None = None,
    as_of: TimeArg = None,
    include_ended: bool = False,
) -> FactList:
    """Facts, optionally about one subject and predicate, now or as of a time.

    Args:
        memory: the memory to read.
        user_id: whose memory.
        subject: an entity name (``user`` for the user themself); ``None`` for all.
        predicate: a predicate name such as ``lives_in``; ``None`` for all.
        as_of: a time in the user's world; ``None`` means the current facts.
        include_ended: without ``as_of``, also the facts that have stopped being true.
    """
    when = opt_time(as_of, "as_of")
    found = await memory.facts(
        user_id,
        as_of=when,
        subject=subject or None,
        predicate=predicate or None,
        current_only=when is None and not include_ended,
    )
    return FactList(
        user_id=user_id,
        as_of=when,
        subject=subject or None,
        predicate=predicate or None,
        include_ended=include_ended,
        facts=await _views(memory, user_id, found),
    )


async def history(memory: Memory, user_id: str, subject: str, predicate: str) -> History:
    """Every value ``subject``'s ``predicate`` has had, oldest first, with validity windows.

    Args:
        memory: the memory to read.
        user_id: whose memory.
        subject: an entity name (``user`` for the user themself).
        predicate: a predicate name such as ``lives_in``.
    """
    subject = check_text(subject, "subject", 300)
    predicate = check_text(predicate, "predicate", 64)
    found = await memory.history(user_id, subject, predicate)
    return History(
        user_id=user_id,
        subject=subject,
        predicate=predicate,
        facts=await _views(memory, user_id, found),
    )


def _replaced(old: Fact, new: Fact, functional: bool) -> bool:
    """``new`` closed ``old``.

    A correction retracts ``old`` when it records ``new``; a contradiction ends ``old`` where
    ``new`` starts, for a functional predicate any other value, otherwise the same value with
    the opposite polarity.
    """
    if old.id == new.id or old.start > new.start:
        return False
    if old.is_retracted:
        return old.expired_at == new.recorded_at
    if old.invalid_at is None or old.invalid_at != new.start:
        return False
    if functional:
        return old.object_key != new.object_key or old.polarity != new.polarity
    return old.object_key == new.object_key and old.polarity != new.polarity


async def why(memory: Memory, user_id: str, fact_id: str) -> Explanation:
    """Why memlane believes a fact: the messages it came from, when it was learned, and what it
    superseded or was superseded by.

    Args:
        memory: the memory to read.
        user_id: whose memory.
        fact_id: the fact's id (as shown by profile, facts, search or history).

    Raises:
        NotFoundError: the user has no such fact.
    """
    check_user_id(user_id)
    check_id(fact_id, "fact_id")
    got = await memory.store.get_facts(user_id, [fact_id])
    if not got:
        raise NotFoundError(f"no fact {fact_id!r} for this user", where="fact_id")
    fact = got[0]
    # Retracted facts are part of the story (a correction replaced them), so include them.
    related = await memory.store.find_facts(
        user_id,
        FactQuery(subject_id=fact.subject_id, predicate=fact.predicate, include_retracted=True),
    )
    functional = memory.registry.is_functional(fact.predicate)
    superseded = [g for g in related if _replaced(g, fact, functional)]
    superseded_by = [g for g in related if _replaced(fact, g, functional)]
    episodes = await memory.store.get_episodes(user_id, list(fact.episode_ids))
    names = await entity_names(memory, user_id, [fact, *superseded, *superseded_by])
    return Explanation(
        user_id=user_id,
        fact=FactView.of(fact, names),
        learned_at=fact.recorded_at,
        episodes=[EpisodeView.of(e) for e in episodes],
        superseded=[FactView.of(g, names) for g in superseded],
        superseded_by=[FactView.of(g, names) for g in superseded_by],
    )


async def diff(memory: Memory, user_id: str, since: TimeArg, until: TimeArg = None) -> Diff:
    """What became true and what stopped being true in the user's world between two times.

    Args:
        memory: the memory to read.
        user_id: whose memory.
        since: the earlier time (exclusive).
        until: the later time (inclusive); ``None`` means now.
    """
    start = opt_time(since, "since")
    if start is None:
        raise InputError("a start time is required", where="since")
    end = opt_time(until, "until") or utcnow()
    if end < start:
        raise InputError("is before 'since'", where="until")
    found = await memory.facts(user_id)
    started = [f for f in found if not f.is_retracted and start < f.start <= end]
    ended = [f for f in found if f.invalid_at is not None and start < f.invalid_at <= end]
    names = await entity_names(memory, user_id, [*started, *ended])
    return Diff(
        user_id=user_id,
        since=start,
        until=end,
        started=[FactView.of(f, names) for f in sorted(started, key=lambda f: f.start)],
        ended=[FactView.of(f, names) for f in sorted(ended, key=lambda f: f.invalid_at or f.start)],
    )


async def graph(
    memory: Memory, user_id: str, as_of: TimeArg = None, where: GraphFilter | None = None
) -> GraphView:
    """The user's graph now (or as of a time): the facts and the entities they connect.

    Filters narrow the facts (``where``); then, when the graph has more nodes or facts than
    the cap (``where.limit``, for each), the most relevant facts are kept: predicates take
    turns (the most common first), and within a predicate facts touching well-connected
    entities and recent facts come first, so the view shows every kind of thing memory holds
    rather than the first hub's edges.

    Args:
        memory: the memory to read.
        user_id: whose memory.
        as_of: a time in the user's world; ``None`` means the current facts.
        where: filters and the node cap (default: no filter, :data:`GRAPH_NODES` nodes).
    """
    where = where or GraphFilter()
    when, found = await _holding(memory, user_id, as_of)
    all_entities = await memory.entities(user_id)
    predicates = Counter(f.predicate for f in found)
    matched = _filtered(found, where, {e.id: e.name for e in all_entities})
    kept = _most_relevant(matched, where.limit)
    names = await entity_names(memory, user_id, kept)
    used = {i for f in kept for i in (f.subject_id, f.object_id) if i}
    entities = [e for e in all_entities if e.id in used]
    return GraphView(
        user_id=user_id,
        as_of=when,
        entities=[EntityView.of(e) for e in entities],
        facts=[FactView.of(f, names) for f in kept],
        total_facts=len(matched),
        truncated=len(kept) < len(matched),
        predicates=dict(predicates.most_common()),
    )


def _filtered(facts: list[Fact], where: GraphFilter, names: dict[str, str]) -> list[Fact]:
    since = opt_time(where.since, "since")
    until = opt_time(where.until, "until")
    words = (where.q or "").lower().split()
    entity = (where.entity or "").strip().lower()
    out = []
    for f in facts:
        if where.predicate and f.predicate != where.predicate:
            continue
        if (since is not None and f.start < since) or (until is not None and f.start >= until):
            continue
        ends = [i for i in (f.subject_id, f.object_id) if i]
        if entity and not any(i.lower() == entity or names.get(i, "").lower() == entity
                              for i in ends):  # fmt: skip
            continue
        if words:
            text = " ".join([f.statement, f.value or "", *(names.get(i, "") for i in ends)])
            if not all(w in text.lower() for w in words):
                continue
        out.append(f)
    return out


def _most_relevant(facts: list[Fact], max_nodes: int) -> list[Fact]:
    degree = Counter(i for f in facts for i in {f.subject_id, f.object_id} if i)
    by_predicate: dict[str, list[Fact]] = {}
    for f in facts:
        by_predicate.setdefault(f.predicate, []).append(f)
    queues = [
        sorted(group, key=lambda f: (-degree[f.object_id or ""], -f.start.timestamp(), f.id))
        for _, group in sorted(by_predicate.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    kept: list[Fact] = []
    nodes: set[str] = set()
    for rank in range(max((len(q) for q in queues), default=0)):
        for queue in queues:
            if rank >= len(queue):
                continue
            f = queue[rank]
            # A literal value is drawn as a node of its own.
            ends = {f.subject_id, f.object_id or f"value:{f.id}"}
            if len(nodes | ends) > max_nodes:
                continue
            nodes |= ends
            kept.append(f)
            if len(kept) == max_nodes:  # as many edges as nodes: a graph, not a hairball
                return kept
    return kept


async def timeline(memory: Memory, user_id: str, limit: int = 200) -> Timeline:
    """Changes to the user's graph, newest first: facts starting, ending, or being retracted.

    Args:
        memory: the memory to read.
        user_id: whose memory.
        limit: at most this many events.
    """
    if not 1 <= limit <= 10_000:
        raise InputError(f"must be between 1 and 10000, got {limit}", where="limit")
    check_user_id(user_id)
    query = FactQuery(include_retracted=True, limit=1_000_000)
    found = await memory.store.find_facts(user_id, query)
    names = await entity_names(memory, user_id, found)
    events: list[tuple[datetime, str, Fact]] = []
    for f in found:
        if f.is_retracted:
            assert f.expired_at is not None
            events.append((f.expired_at, "retracted", f))
            continue
        events.append((f.start, "started", f))
        if f.invalid_at is not None:
            events.append((f.invalid_at, "ended", f))
    events.sort(key=lambda e: (e[0], e[1], e[2].id), reverse=True)
    return Timeline(
        user_id=user_id,
        events=[
            TimelineEvent(at=at, change=change, fact=FactView.of(f, names))  # type: ignore[arg-type]
            for at, change, f in events[:limit]
        ],
    )


async def export(memory: Memory, user_id: str) -> Export:
    """Every record of the user (episodes, entities, facts) in the export record format.

    Args:
        memory: the memory to read.
        user_id: whose memory.
    """
    records = [r async for r in memory.export(user_id)]
    counts: dict[str, int] = {}
    for r in records:
        kind = str(r.get("type", "record"))
        counts[kind] = counts.get(kind, 0) + 1
    return Export(user_id=user_id, records=records, counts=counts)
