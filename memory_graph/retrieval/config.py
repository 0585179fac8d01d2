"""Retrieval configuration: one pydantic model and a few named presets.

Experiments and callers name a preset (``fast``, ``balanced``, ``deep``) rather than tuning
knobs. The numbers of ``balanced`` were tuned on the LoCoMo development split
(``memlane eval locomo``); see docs/retrieval.md for what each knob does to recall.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PRESETS", "RetrievalConfig"]


class RetrievalConfig(BaseModel):
    """How :class:`memlane.memory_graph.retrieval.retriever.Retriever` finds, fuses and renders
    memories."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = "custom"
    # -- candidate legs ----------------------------------------------------------------------
    fact_vector_k: int = Field(default=50, ge=0, le=1000)
    fact_text_k: int = Field(default=50, ge=0, le=1000)
    episode_vector_k: int = Field(default=200, ge=0, le=1000)
    episode_text_k: int = Field(default=100, ge=0, le=1000)
    include_episodes: bool = True
    # -- fusion ------------------------------------------------------------------------------
    rrf_k: float = Field(default=5.0, gt=0, description="reciprocal rank fusion constant")
    w_vector: float = Field(default=1.0, ge=0)
    w_text: float = Field(default=1.0, ge=0)
    w_fact: float = Field(
        default=0.5, ge=0, description="weight of fact legs relative to episode legs"
    )
    w_graph: float = Field(default=0.3, ge=0, description="weight of the PageRank leg")
    w_score: float = Field(
        default=0.5,
        ge=0,
        description="share of a search hit's gain taken from its score (relative to its "
        "leg's best) on top of its rank",
    )
    w_unnamed: float = Field(
        default=1.0,
        ge=0,
        description="weight of the vector legs of the query without its proper names",
    )
    # -- graph expansion ---------------------------------------------------------------------
    expand: bool = True
    hops: int = Field(default=2, ge=0, le=3)
    expand_limit: int = Field(default=100, ge=0, le=2000)
    graph_k: int = Field(default=30, ge=0, le=1000)
    pagerank_alpha: float = Field(default=0.85, gt=0, lt=1)
    # -- reranking ---------------------------------------------------------------------------
    mention_boost: float = Field(
        default=2.0, ge=0, description="score x (1 + this) for items by/about a named person"
    )
    path_boost: float = Field(
        default=1.0, ge=0, description="score x (1 + this) for a linked entity's named predicate"
    )
    date_boost: float = Field(
        default=3.0, ge=0, description="score x (1 + this) for items dated when the query says"
    )
    superseded_weight: float = Field(
        default=0.3, ge=0, le=1, description="score factor of no-longer-true facts"
    )
    w_recency: float = Field(default=0.1, ge=0)
    recency_half_life_days: float = Field(default=180.0, gt=0)
    fact_to_episode: float = Field(
        default=0.6, ge=0, description="share of a fact's score its source episodes gain"
    )
    adjacent_top: int = Field(
        default=10, ge=0, le=200, description="episodes whose neighbouring turns gain score"
    )
    adjacent_prev: float = Field(default=0.2, ge=0)
    adjacent_next: float = Field(default=0.2, ge=0)
    adjacent_own: float = Field(
        default=0.2,
        ge=0,
        description="share the same speaker's turns two before and after a best message gain",
    )
    dedup_jaccard: float = Field(default=0.9, gt=0, le=1)
    # -- output ------------------------------------------------------------------------------
    profile_predicates: tuple[str, ...] = Field(
        default=("name", "age", "gender", "lives_in", "works_at", "job_title"),
        description="the user's current facts of these predicates head the context, outside "
        "the ranked slots",
    )
    max_profile: int = Field(default=6, ge=0, le=20)
    max_facts: int = Field(default=20, ge=0, le=500)
    max_episodes: int = Field(default=20, ge=0, le=500)
    max_superseded: int = Field(default=5, ge=0, le=100)
    token_budget: int = Field(default=1000, ge=50, le=64_000)
    snippet_chars: int = Field(default=400, ge=40, le=10_000)
    cited_messages: bool = Field(
        default=True,
        description="show a message that a fact in the context came from (False: the fact "
        "stands in for it, ranked at the message's score)",
    )


PRESETS: dict[str, RetrievalConfig] = {
    "fast": RetrievalConfig(
        name="fast",
        fact_vector_k=20,
        fact_text_k=20,
        episode_vector_k=20,
        episode_text_k=20,
        expand=False,
        adjacent_top=0,
        w_unnamed=0.0,  # one text embedded per query
        max_facts=10,
        max_episodes=10,
        token_budget=800,
    ),
    "balanced": RetrievalConfig(name="balanced"),
    "deep": RetrievalConfig(
        name="deep",
        fact_vector_k=100,
        fact_text_k=100,
        episode_vector_k=100,
        episode_text_k=100,
        hops=2,
        expand_limit=300,
        graph_k=60,
        adjacent_top=40,
        max_facts=40,
        max_episodes=40,
        max_superseded=10,
        token_budget=4000,
    ),
}
