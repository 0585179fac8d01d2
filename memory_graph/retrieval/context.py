"""What recall returns: a ``MemoryContext`` of ranked facts and episodes, rendered to compact,
dated text under a token budget.
"""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from memlane.memory_graph.model import Episode, Fact

__all__ = [
    "ContextEpisode",
    "ContextFact",
    "MemoryContext",
    "count_tokens",
    "episode_line",
    "fact_line",
    "render",
]


def count_tokens(text: str) -> int:
    """A cheap estimate of cl100k tokens: about four characters of English per token.

    tiktoken's cl100k tables download on first use, which an offline machine cannot do, so
    memlane estimates; the estimate runs a little high on plain English (a safe direction
    for a budget).
    """
    return math.ceil(len(text) / 4) if text else 0


class ContextFact(BaseModel):
    """A fact chosen for the context, with the names of its ends and why it ranked."""

    model_config = ConfigDict(frozen=True)

    fact: Fact
    score: float
    subject_name: str
    object_name: str | None = None
    sources: tuple[str, ...] = Field(default=(), description="retrieval legs that found it")
    planned_for: datetime | None = Field(
        default=None, description="a plan's date (memory_graph.plans), shown as such"
    )


class ContextEpisode(BaseModel):
    """A message chosen as supporting evidence."""

    model_config = ConfigDict(frozen=True)

    episode: Episode
    score: float
    sources: tuple[str, ...] = ()


class MemoryContext(BaseModel):
    """The memories relevant to one query, ranked, and the text a prompt gets."""

    user_id: str
    query: str
    as_of: datetime | None = None
    profile: list[ContextFact] = Field(
        default_factory=list, description="who the user is: the header, not ranked"
    )
    facts: list[ContextFact] = Field(default_factory=list)
    superseded: list[ContextFact] = Field(default_factory=list)
    episodes: list[ContextEpisode] = Field(default_factory=list)
    text: str = ""
    tokens: int = 0

    def ranked_facts(self) -> list[ContextFact]:
        """The ranked facts, current and no longer true, best first (the profile header is
        not ranked: a header fact is here only when the query asked about its predicate)."""
        return sorted([*self.facts, *self.superseded], key=lambda cf: -cf.score)

    def ranked_episode_ids(self) -> list[str]:
        """Source episodes in rank order: episodes as themselves, facts as their provenance.

        Facts and episodes are merged by score; each id appears once. This is what evidence
        recall (``memlane eval locomo``) scores.
        """
        items: list[tuple[float, int, tuple[str, ...]]] = []
        for i, cf in enumerate(self.facts):
            items.append((cf.score, i, cf.fact.episode_ids))
        for i, ce in enumerate(self.episodes):
            items.append((ce.score, len(self.facts) + i, (ce.episode.id,)))
        items.sort(key=lambda t: (-t[0], t[1]))
        out: dict[str, None] = {}
        for _, _, ids in items:
            for eid in ids:
                out.setdefault(eid, None)
        return list(out)


def _day(when: datetime | None) -> str:
    return when.date().isoformat() if when else "?"  # strftime took 6x as long


def fact_line(cf: ContextFact) -> str:
    """``- [2023-05-01 → now] User lives in Berlin``; a plan ``- [2025-01-01 → planned for
    2025-01-08] ...``."""
    f = cf.fact
    end = _day(f.invalid_at) if f.invalid_at else ("now" if f.expired_at is None else "retracted")
    if cf.planned_for is not None:
        end = f"planned for {_day(cf.planned_for)}"
    return f"- [{_day(f.valid_at or f.recorded_at)} → {end}] {f.statement}"


def episode_line(ce: ContextEpisode, snippet_chars: int) -> str:
    """``- (2023-05-08, session 3) Caroline: ...``."""
    ep = ce.episode
    where = f", {ep.session_id}" if ep.session_id else ""
    who = ep.speaker or ep.role
    content = " ".join(ep.content.split())
    if len(content) > snippet_chars:
        content = content[: snippet_chars - 1].rstrip() + "…"
    return f"- ({_day(ep.occurred_at)}{where}) {who}: {content}"


def _raise(cf: ContextFact, score: float | None) -> ContextFact:
    """A fact shown in place of its message ranks where the message did."""
    if score is None or score <= cf.score:
        return cf
    return cf.model_copy(update={"score": score})


def render(
    profile: list[ContextFact],
    facts: list[ContextFact],
    superseded: list[ContextFact],
    episodes: list[ContextEpisode],
    *,
    token_budget: int,
    snippet_chars: int,
    cited_messages: bool = True,
) -> tuple[list[ContextFact], list[ContextFact], list[ContextFact], list[ContextEpisode], str, int]:
    """Pick the best items that fit ``token_budget`` and render them in four sections.

    The profile (who the user is) comes first and is paid for first. Then items are taken in
    one merged order of score (facts, superseded facts and episodes compete), so a strong
    episode is not crowded out by weak facts; a superseded fact carries its down-weighted
    score, so it is shown when it is about the question and dropped before what is current.

    With ``cited_messages`` False, a message that a fact in the context came from is not
    shown: when it comes up, the facts citing it are shown in its place (ranked at its
    score), so the fact ranks above its message and the budget goes to other evidence.

    Returns:
        The profile facts, facts, superseded facts and episodes that fit, the text, and its
        token count.
    """
    headers = {
        "profile": "About the user:",
        "facts": "Known facts (validity):",
        "superseded": "No longer true:",
        "episodes": "From conversations:",
    }
    ranked: list[tuple[float, str, int]] = [(0.0, "profile", i) for i in range(len(profile))]
    ranked += sorted(
        [(cf.score, "facts", i) for i, cf in enumerate(facts)]
        + [(ce.score, "episodes", i) for i, ce in enumerate(episodes)]
        + [(cf.score, "superseded", i) for i, cf in enumerate(superseded)],
        key=lambda t: -t[0],
    )

    chosen: dict[str, list[int]] = {"profile": [], "facts": [], "superseded": [], "episodes": []}
    lists = {"profile": profile, "facts": facts, "superseded": superseded}
    citing: dict[str, list[tuple[str, int]]] = {}
    if not cited_messages:
        for section in ("facts", "superseded"):
            for i, cf in enumerate(lists[section]):
                for eid in cf.fact.episode_ids:
                    citing.setdefault(eid, []).append((section, i))
    raised: dict[tuple[str, int], float] = {}
    used = 0

    def take(section: str, i: int) -> bool:
        nonlocal used
        if i in chosen[section]:
            return True
        if section == "episodes":
            line = episode_line(episodes[i], snippet_chars)
        else:
            line = fact_line(lists[section][i])
        cost = count_tokens(line) + 1 + (0 if chosen[section] else count_tokens(headers[section]))
        if used + cost > token_budget:
            return False
        chosen[section].append(i)
        used += cost
        return True

    for score, section, i in ranked:
        cites = citing.get(episodes[i].episode.id, []) if section == "episodes" else []
        if not cites:
            take(section, i)
            continue
        for key in cites:
            if key[1] not in chosen[key[0]] and take(*key):
                raised[key] = score
        if not any(key[1] in chosen[key[0]] for key in cites):
            take(section, i)  # no citing fact fits: the message stands for itself

    kept_profile = [profile[i] for i in sorted(chosen["profile"])]
    kept_facts = [_raise(facts[i], raised.get(("facts", i))) for i in sorted(chosen["facts"])]
    kept_old = [
        _raise(superseded[i], raised.get(("superseded", i))) for i in sorted(chosen["superseded"])
    ]
    kept_eps = [episodes[i] for i in sorted(chosen["episodes"])]
    blocks: list[str] = []
    if kept_profile:
        blocks.append("\n".join([headers["profile"], *(fact_line(cf) for cf in kept_profile)]))
    if kept_facts:
        blocks.append("\n".join([headers["facts"], *(fact_line(cf) for cf in kept_facts)]))
    if kept_old:
        blocks.append("\n".join([headers["superseded"], *(fact_line(cf) for cf in kept_old)]))
    if kept_eps:
        # Oldest first reads as a story; the ranking lives in ``episodes``.
        story = sorted(kept_eps, key=lambda ce: (ce.episode.occurred_at, ce.episode.id))
        lines = [episode_line(ce, snippet_chars) for ce in story]
        blocks.append("\n".join([headers["episodes"], *lines]))
    text = "\n\n".join(blocks)
    return kept_profile, kept_facts, kept_old, kept_eps, text, count_tokens(text)
