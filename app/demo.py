"""``memlane demo`` (``make run``): a scripted life over several sessions, on the embedded store.

A fresh user moves city, changes job, changes a food preference, and later tells an old story
about the city they left. The demo prints each reply, then what memory holds now and the
history of every fact that changed, with validity dates. With the default model
(``memlane/offline``) it needs no key and no network.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from memlane.agent.api import ChatResult, MemoryAgent
from memlane.agent.settings import Settings
from memlane.llm.offline.provider import LABEL, is_offline
from memlane.memory_graph.timeutil import to_iso, utcnow
from memlane.tools import queries
from memlane.tools.models import FactView

__all__ = ["SCRIPT", "DemoResult", "FactRow", "run_demo"]

# (session, when, message): the story the demo tells.
SCRIPT: list[tuple[str, str, str]] = [
    ("s1", "2023-01-10T09:00:00Z", "Hi! My name is Maya. I live in Lisbon."),
    ("s1", "2023-01-10T09:01:00Z", "I work at Acme Corp as a data analyst."),
    ("s1", "2023-01-10T09:02:00Z", "I love sushi, and I go surfing every weekend."),
    ("s1", "2023-01-10T09:03:00Z", "My dog Biscuit is the best."),
    ("s2", "2023-09-05T18:00:00Z", "Big news: I moved to Berlin last month!"),
    ("s2", "2023-09-05T18:01:00Z", "Where do I live now?"),
    (
        "s3",
        "2024-02-20T12:00:00Z",
        "I left Acme Corp last month and joined Stripe as a product manager.",
    ),
    ("s4", "2024-06-01T20:00:00Z", "I don't like sushi anymore. I've come to love ramen."),
    (
        "s5",
        "2024-09-12T08:00:00Z",
        "Back when I lived in Lisbon, I used to go surfing every morning.",
    ),
    ("s5", "2024-09-12T08:01:00Z", "Where do I live and where do I work?"),
]
CHANGED = [("lives_in", "home"), ("works_at", "employer"), ("job_title", "job"), ("likes", "likes")]


@dataclass(frozen=True)
class FactRow:
    """A fact as the demo shows it."""

    predicate: str
    value: str
    polarity: str
    valid_at: str | None
    invalid_at: str | None
    current: bool

    def line(self) -> str:
        window = f"{(self.valid_at or '?')[:10]} -> {(self.invalid_at or 'now')[:10]}"
        value = f"NOT {self.value}" if self.polarity == "negative" else self.value
        mark = "current" if self.current else "closed"
        return f"{value:<20} {window:<26} {mark}"


@dataclass
class DemoResult:
    """What the demo did: replies, the profile now (and what no longer holds), and histories
    of the changed facts."""

    user_id: str
    store: str
    turns: list[ChatResult] = field(default_factory=list)
    profile: list[FactRow] = field(default_factory=list)
    no_longer: list[FactRow] = field(default_factory=list)
    histories: dict[str, list[FactRow]] = field(default_factory=dict)

    def current(self, predicate: str) -> list[str]:
        """Current positive values of ``predicate``."""
        return [
            r.value
            for r in self.profile
            if r.predicate == predicate and r.current and r.polarity == "positive"
        ]


def _rows(facts: list[FactView]) -> list[FactRow]:
    return [
        FactRow(
            predicate=f.predicate,
            value=f.object or "",
            polarity=f.polarity,
            valid_at=to_iso(f.valid_at),
            invalid_at=to_iso(f.invalid_at),
            current=f.status == "current",
        )
        for f in facts
    ]


async def run_demo(
    settings: Settings,
    *,
    out: Callable[[str], None] = lambda _line: None,
    store: str | None = None,
) -> DemoResult:
    """Play :data:`SCRIPT` for a fresh user and report the resulting memory.

    Args:
        settings: model, embedder and options (``settings.store`` is not used).
        out: where the transcript lines go (``print`` in the CLI).
        store: the store URL; default a new SQLite file in a temporary directory.
    """
    if store is None:
        store = f"sqlite:///{Path(tempfile.mkdtemp(prefix='memlane-demo-')) / 'demo.db'}"
    user_id = "demo-" + utcnow().strftime("%Y%m%d%H%M%S%f")
    settings = settings.model_copy(update={"store": store, "defer_writes": False})
    result = DemoResult(user_id=user_id, store=store)
    out(f"memlane demo: model {settings.model}, store {store}, user {user_id}")
    if is_offline(settings.model):
        out(f"{LABEL} pattern extraction and template replies; set MEMLANE_MODEL for a real one")
    async with MemoryAgent(settings=settings) as agent:
        session = None
        for session_id, at, message in SCRIPT:
            if session_id != session:
                session = session_id
                out(f"\n--- session {session_id} ({at[:10]}) ---")
            out(f"user> {message}")
            turn = await agent.achat(user_id, message, session_id=session_id, at=at)
            result.turns.append(turn)
            out(f"assistant> {turn.reply}")
            if not turn.ok:
                out(f"  !! memory not updated: {turn.write_error}")
        memory = await agent.memory()
        profile = await queries.profile(memory, user_id)
        result.profile = _rows([f for group in profile.facts.values() for f in group])
        result.no_longer = _rows(profile.no_longer)
        out("\n=== what memory holds now ===")
        for row in result.profile:
            out(f"  {row.predicate:<14} {row.line()}")
        if result.no_longer:
            out("  no longer:")
            for row in result.no_longer:
                out(f"  {row.predicate:<14} {row.value:<20} since {(row.valid_at or '?')[:10]}")
        out("\n=== history of what changed ===")
        for predicate, label in CHANGED:
            rows = _rows((await queries.history(memory, user_id, "user", predicate)).facts)
            result.histories[predicate] = rows
            out(f"  {label} ({predicate}):")
            for row in rows:
                out(f"    {row.line()}")
        totals = agent.gateway.accounting.totals()
        out(
            f"\nLLM calls: {totals['calls']:.0f}, tokens in/out: {totals['prompt_tokens']:.0f}/"
            f"{totals['completion_tokens']:.0f}, cost ${totals['cost_usd']:.4f}"
        )
    return result
