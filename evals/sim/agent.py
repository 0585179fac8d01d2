"""The simulator's bridge to the real agent: each user turn is one ``MemoryAgent.achat``.

The agent runs its whole loop (recall, reply, extraction by the configured model,
reconciliation, commit) over the simulation's :class:`~memlane.memory_graph.memory.Memory`, whose
clock is the simulated turn time. LLM calls are counted by the agent's gateway.
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from memlane.agent.api import MemoryAgent
from memlane.agent.settings import Settings
from memlane.evals.failures import KEEP, ErrorSummary
from memlane.evals.sim.extraction import ExtractionTally
from memlane.evals.sim.render import RenderedTurn
from memlane.evals.sim.timeline import Session, Timeline, Turn
from memlane.llm.gateway import LLMGateway
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import episode_id_for

__all__ = ["AgentWriter"]

log = logging.getLogger(__name__)


class AgentWriter:
    """Feeds user turns through :class:`memlane.agent.api.MemoryAgent` (an async context
    manager)."""

    name = "agent"

    def __init__(
        self, memory: Memory, timeline: Timeline, config: Any, *, gateway: LLMGateway | None = None
    ) -> None:
        self.user_id = timeline.user_id
        self.user_name: str | None = None
        settings = Settings(
            model=config.model,
            embedder=config.embedder,
            retrieval_preset=config.retrieval_preset,
            defer_writes=False,
        )
        self.gateway = gateway or LLMGateway(config.model_for("chat"))
        extraction = None
        if gateway is None and config.model_for("extraction") != self.gateway.config:
            extraction = LLMGateway(
                config.model_for("extraction"), accounting=self.gateway.accounting
            )
        # Threads live in memory: a simulation leaves no checkpoint file behind.
        self.agent = MemoryAgent(
            settings=settings,
            memory=memory,
            gateway=self.gateway,
            extraction_gateway=extraction,
            checkpointer=InMemorySaver(),
        )
        self.memory = memory
        self.errors = ErrorSummary()
        self.extraction = ExtractionTally(timeline.gold)

    async def __aenter__(self) -> AgentWriter:
        await self.agent.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.agent.aclose()

    async def turn(self, session: Session, turn: Turn, text: RenderedTurn) -> None:
        result = await self.agent.achat(self.user_id, text.user, session_id=session.id, at=turn.at)
        if result.write_status == "failed":
            error = result.write_error or {}
            self.errors.add(
                error.get("code", "unknown"),
                error.get("message", "memory write failed"),
                session=str(session.index + 1),
                at=turn.at.isoformat(),
            )
            # The first few in the log; the run's summary counts them all.
            if self.errors.count <= KEEP:
                log.warning("simulated turn not written: %s", self.errors.first[-1])
            return
        # Score extraction: the facts citing this turn's episode against the turn's drafts.
        episode = episode_id_for(session.id, "user", turn.at, text.user)
        facts = [f for f in await self.memory.facts(self.user_id) if episode in f.episode_ids]
        names = {e.id: e.name for e in await self.memory.entities(self.user_id)} if facts else {}
        self.extraction.add(turn, text.user, facts, names, session=session.index)

    def llm_totals(self) -> dict[str, dict[str, float]]:
        return self.gateway.accounting.by_task()
