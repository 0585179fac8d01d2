"""Reply: answer the user's message, conditioned on the memory retrieved for it.

The memory context is the rendered :class:`memlane.memory_graph.retrieval.retriever.MemoryContext`
text (current
facts, superseded facts that matter, dated snippets). Recent turns of the thread follow as
chat messages, then the new user message.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from memlane.memory_graph.timeutil import to_iso
from memlane.prompts._template import Template
from memlane.prompts.extract_memory import Turn

__all__ = ["TASK", "Reply", "RespondInput", "build_messages"]

TASK = "respond"


class RespondInput(BaseModel):
    """What a reply is conditioned on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_name: str | None = None
    now: datetime
    memory: str = Field(default="", description="rendered memory context (may be empty)")
    recent_turns: list[Turn] = Field(default_factory=list)
    message: str = Field(min_length=1)


class Reply(BaseModel):
    """The assistant's reply to the user's latest message."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="the reply, plain text")


SYSTEM = Template(
    "respond.system",
    """TASK: $task
You are a helpful assistant with a long-term memory of the user ($user_name). Use MEMORY when \
it is relevant; a current fact overrides a superseded one; never invent facts about the user. \
Be brief. Now is $now.
MEMORY:
$memory""",
)


def build_messages(data: RespondInput) -> list[dict[str, str]]:
    """System prompt with the memory, the recent turns, then the new user message."""
    system = SYSTEM.render(
        {
            "task": TASK,
            "user_name": data.user_name or "name unknown",
            "now": to_iso(data.now),
            "memory": data.memory.strip() or "(nothing relevant remembered)",
        }
    )
    messages = [{"role": "system", "content": system}]
    messages.extend({"role": t.role, "content": t.content} for t in data.recent_turns)
    messages.append({"role": "user", "content": data.message})
    return messages
