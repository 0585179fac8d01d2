"""The simulator's optional LLM parts (real models only; off by default).

* :func:`rewrite_turns`: an LLM user-simulator rewrites a session's templated messages in its
  own words, keeping every fact and date (``--llm-user``);
* :func:`judge_probe`: a probe is asked through memlane's reply path (recall + the reply
  prompt) and an LLM judge compares the reply with the expected answer (``--judge``).

Both go through the agent's :class:`memlane.llm.gateway.LLMGateway` (typed output, one repair retry,
accounting). A rewrite that loses or adds messages is an error, never silently used.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from memlane.evals.sim.probes import UNKNOWN, Probe
from memlane.evals.sim.render import RenderedTurn
from memlane.evals.sim.timeline import Session
from memlane.llm.gateway import LLMGateway
from memlane.memory_graph.errors import ExtractionError
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.timeutil import to_iso
from memlane.prompts import respond
from memlane.prompts._template import Template

__all__ = ["ProbeVerdict", "Rewrite", "judge_probe", "rewrite_turns"]

REWRITE_TASK = "sim_user"
ANSWER_TASK = "sim_answer"
JUDGE_TASK = "sim_judge"


class Rewrite(BaseModel):
    """The session's user messages, rewritten, one per original, in order."""

    model_config = ConfigDict(extra="forbid")

    messages: list[str] = Field(description="one rewritten message per original, same order")


class ProbeVerdict(BaseModel):
    """Whether a reply gives the expected answer."""

    model_config = ConfigDict(extra="forbid")

    correct: bool
    reason: str = ""


_REWRITE = Template(
    "sim_user.system",
    """TASK: $task
You play a person chatting with their AI assistant. Rewrite each of your messages below the \
way you would really type it: vary the wording, be casual, add small talk if you like. Keep \
every fact exactly: names, places, employers, job titles, numbers, likes and dislikes, and \
every time phrase ("yesterday", "on Saturday", "last week", a date) with the same meaning. \
Add no new facts about yourself or others. The messages are sent on $day.
Reply with a JSON object {"messages": [...]} holding exactly $count strings, in order.""",
)

_JUDGE = Template(
    "sim_judge.system",
    """TASK: $task
You grade an assistant's reply to a user's question about the user's own life. EXPECTED is \
the right answer. The reply is correct if it gives that answer (any wording; for a list, all \
items; for a date, that day in any format). If EXPECTED is "unknown", the reply is correct \
only if it says it does not know or was never told. A reply that hedges between values or \
gives another value is wrong.
Reply with a JSON object {"correct": true or false, "reason": "one short sentence"}.""",
)


async def rewrite_turns(
    gateway: LLMGateway, session: Session, rendered: list[RenderedTurn]
) -> list[RenderedTurn]:
    """The session's user messages in the model's own words (assistant replies unchanged).

    Raises:
        ExtractionError: the model returned a different number of messages.
        LLMError: the call failed.
    """
    system = _REWRITE.render(
        {"task": REWRITE_TASK, "day": session.started_at.date().isoformat(), "count": len(rendered)}
    )
    listing = "\n".join(f"{i + 1}. {t.user}" for i, t in enumerate(rendered))
    out = await gateway.complete(
        [{"role": "system", "content": system}, {"role": "user", "content": listing}],
        Rewrite,
        task=REWRITE_TASK,
    )
    messages = out.value.messages
    if len(messages) != len(rendered) or not all(m.strip() for m in messages):
        raise ExtractionError(
            f"the user simulator returned {len(messages)} messages for {len(rendered)}",
            where=f"session {session.index + 1}",
        )
    return [
        RenderedTurn(at=t.at, user=m.strip(), assistant=t.assistant)
        for t, m in zip(rendered, messages, strict=True)
    ]


async def judge_probe(
    gateway: LLMGateway, memory: Memory, user_id: str, probe: Probe, *, user_name: str | None
) -> tuple[bool, str]:
    """Ask ``probe`` through recall + the reply prompt, and judge the reply.

    Returns:
        (correct, the reply).
    """
    context = await memory.recall(user_id, probe.question, as_of=probe.as_of)
    messages = respond.build_messages(
        respond.RespondInput(
            user_name=user_name, now=probe.asked_at, memory=context.text, message=probe.question
        )
    )
    reply, _ = await gateway.text(messages, task=ANSWER_TASK)
    expected = probe.expected if isinstance(probe.expected, str) else "; ".join(probe.expected)
    system = _JUDGE.render({"task": JUDGE_TASK})
    user = (
        f"QUESTION (asked {to_iso(probe.asked_at)}): {probe.question}\n"
        f"EXPECTED: {expected or UNKNOWN}\nREPLY: {reply}"
    )
    verdict = await gateway.complete(
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        ProbeVerdict,
        task=JUDGE_TASK,
    )
    return verdict.value.correct, reply
