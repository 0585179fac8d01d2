"""LoCoMo question answering: answer from memory with any LiteLLM model, scored by an LLM judge.

For each conversation (loaded by :func:`memlane.evals.locomo.load_locomo`, one memlane user each):

1. ingest its turns as episodes and, in ``both`` mode, its observations as facts (as
   ``memlane eval locomo`` does);
2. for every category 1-4 question, recall the memory context (:meth:`Memory.recall`) and
   let the model answer through memlane's own reply prompt (:mod:`memlane.prompts.respond`), the
   same path the agent's replies take;
3. score the answer against the gold answer with an LLM judge (a typed verdict, task
   ``locomo_judge``) and with token F1 (the LoCoMo paper's metric; no LLM).

Scores are reported per category (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop) with
token and cost accounting from the gateway. See docs/evaluation.md.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import string
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from tqdm import tqdm

from memlane.evals.failures import ErrorSummary
from memlane.evals.locomo import CATEGORY_NAMES, Conversation
from memlane.llm.gateway import LLMGateway
from memlane.memory_graph.embedding.port import Embedder
from memlane.memory_graph.errors import InputError, LLMError
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores.base import GraphStore
from memlane.prompts import respond
from memlane.prompts._template import Template

__all__ = [
    "JUDGE_TASK",
    "LocomoQAResult",
    "Verdict",
    "gold_answers",
    "judge_messages",
    "run_locomo_qa",
    "token_f1",
]

log = logging.getLogger(__name__)

JUDGE_TASK = "locomo_judge"
Mode = Literal["turns", "both"]


class Verdict(BaseModel):
    """Whether a generated answer says the same as the gold answer."""

    model_config = ConfigDict(extra="forbid")

    correct: bool = Field(description="true if the answer matches the gold answer's meaning")
    reason: str = Field(default="", description="one short sentence")


_JUDGE_SYSTEM = Template(
    "locomo_judge.system",
    """TASK: $task
You grade answers to questions about a long conversation between two people. Compare the \
ANSWER with the GOLD answer. Be generous about wording and length: the answer is correct if \
it states the same fact as the gold answer (same person, thing, place or time; a date in \
another format or a relative date that resolves to it counts). It is wrong if it contradicts \
the gold answer, misses its point, or says it does not know.
Reply with a JSON object: {"correct": true or false, "reason": "one short sentence"}.""",
)

_JUDGE_USER = Template(
    "locomo_judge.user",
    """QUESTION: $question
GOLD: $gold
ANSWER: $answer""",
)


def judge_messages(question: str, gold: str, answer: str) -> list[dict[str, str]]:
    """The judge prompt for one answer."""
    return [
        {"role": "system", "content": _JUDGE_SYSTEM.render({"task": JUDGE_TASK})},
        {
            "role": "user",
            "content": _JUDGE_USER.render({"question": question, "gold": gold, "answer": answer}),
        },
    ]


_ARTICLES = re.compile(r"\b(a|an|the|and)\b")


def _tokens(text: str) -> list[str]:
    text = text.lower().replace(",", "")
    text = "".join(ch for ch in text if ch not in string.punctuation)
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, gold: str) -> float:
    """Token F1 between two answers after SQuAD-style normalisation (as in the LoCoMo paper)."""
    pred, ref = _tokens(prediction), _tokens(gold)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if not pred or not ref or same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def gold_answers(path: str | Path) -> dict[tuple[str, str], str]:
    """Gold answers by ``(sample_id, question)``.

    :func:`memlane.evals.locomo.load_locomo` keeps questions, categories and evidence; the answers
    are
    read here from the same file.

    Raises:
        InputError: the file cannot be read or is not a LoCoMo list.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read LoCoMo answers: {exc}", where=str(p)) from exc
    if not isinstance(data, list):
        raise InputError("expected a JSON list of conversations", where=str(p))
    out: dict[tuple[str, str], str] = {}
    for i, sample in enumerate(data):
        if not isinstance(sample, dict):
            continue
        sample_id = str(sample.get("sample_id") or f"conv-{i}")
        for q in sample.get("qa") or []:
            if isinstance(q, dict) and q.get("question") and "answer" in q:
                out[(sample_id, str(q["question"]))] = str(q["answer"])
    return out


@dataclass
class _Row:
    category: int
    f1: float
    judged: bool | None
    context_tokens: int


@dataclass
class LocomoQAResult:
    """Scores of a run; :meth:`to_dict` is the ``--json`` output.

    ``judge_errors`` counts answers the judge could not grade (scored as wrong), with the
    first few in full; ``memlane eval locomo-qa`` exits 1 when there are any.
    """

    model: str
    judge_model: str | None
    mode: str
    embedder: str
    preset: str
    conversations: int
    rows: list[_Row] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    llm: dict[str, dict[str, float]] = field(default_factory=dict)
    judge_errors: ErrorSummary = field(default_factory=ErrorSummary)

    def _scores(self, rows: list[_Row]) -> dict[str, Any]:
        judged = [r.judged for r in rows if r.judged is not None]
        return {
            "n": len(rows),
            "judge_accuracy": round(sum(judged) / len(judged), 4) if judged else None,
            "f1": round(statistics.fmean(r.f1 for r in rows), 4) if rows else None,
        }

    def to_dict(self) -> dict[str, Any]:
        by_cat: dict[int, list[_Row]] = {}
        for r in self.rows:
            by_cat.setdefault(r.category, []).append(r)
        lat = sorted(self.answer_ms)
        tokens = sorted(r.context_tokens for r in self.rows)
        return {
            "benchmark": "locomo-qa",
            "model": self.model,
            "judge_model": self.judge_model,
            "mode": self.mode,
            "embedder": self.embedder,
            "preset": self.preset,
            "conversations": self.conversations,
            "n_questions": len(self.rows),
            # Before the scores: every ungraded answer is in them as wrong.
            "judge_errors": self.judge_errors.to_dict(),
            **{k: v for k, v in self._scores(self.rows).items() if k != "n"},
            "per_category": {
                str(cat): {"name": CATEGORY_NAMES.get(cat, str(cat)), **self._scores(rows)}
                for cat, rows in sorted(by_cat.items())
            },
            "latency_ms": {
                "p50": round(lat[len(lat) // 2], 2) if lat else 0.0,
                "p95": round(lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))], 2)
                if lat
                else 0.0,
            },
            "context_tokens": {"median": statistics.median(tokens) if tokens else 0},
            "llm": self.llm,
            "examples": self.examples,
        }


async def _ingest(memory: Memory, conv: Conversation, mode: Mode) -> None:
    await memory.add_episodes(conv.episodes)
    if mode == "both":
        session_of = {ep.id: ep.session_id or "" for ep in conv.episodes}
        by_session: dict[str, list[Any]] = {}
        for draft in conv.observations:
            by_session.setdefault(session_of[draft.episode_ids[0]], []).append(draft)
        for drafts in by_session.values():
            await memory.commit(conv.user_id, drafts)


async def run_locomo_qa(
    conversations: Sequence[Conversation],
    answers: dict[tuple[str, str], str],
    store: GraphStore,
    embedder: Embedder,
    gateway: LLMGateway,
    *,
    judge: LLMGateway | None = None,
    mode: Mode = "both",
    preset: str = "balanced",
    token_budget: int | None = None,
    limit_questions: int | None = None,
    progress: bool = True,
    examples: int = 5,
) -> LocomoQAResult:
    """Answer LoCoMo questions from memory and score them.

    Args:
        conversations: from :func:`memlane.evals.locomo.load_locomo`.
        answers: gold answers from :func:`gold_answers`.
        store: an opened (scratch) store.
        embedder: for ingestion and recall.
        gateway: the answering model.
        judge: the judging model (None: token F1 only).
        mode: ``turns`` or ``both`` (turns plus observations as facts).
        preset: retrieval preset.
        token_budget: context budget per question.
        limit_questions: answer at most this many questions per conversation.
        progress: tqdm bars on stderr.
        examples: how many (question, gold, answer, verdict) rows to keep for the report.

    Raises:
        InputError: a question has no gold answer in ``answers``.
        LLMError: the answering model failed (a judge failure is counted, not raised).
    """
    memory = Memory(store, embedder, retrieval=preset)
    result = LocomoQAResult(
        model=gateway.model,
        judge_model=judge.model if judge else None,
        mode=mode,
        embedder=getattr(embedder, "name", type(embedder).__name__),
        preset=preset,
        conversations=len(conversations),
    )
    for conv in tqdm(conversations, desc="ingest", disable=not progress, file=sys.stderr):
        await _ingest(memory, conv, mode)
    todo = [(c, q) for c in conversations for q in c.questions[:limit_questions]]
    for conv, q in tqdm(todo, desc="answer", disable=not progress, file=sys.stderr):
        gold = answers.get((conv.sample_id, q.question))
        if gold is None:
            raise InputError(f"no gold answer for {q.question!r}", where=conv.sample_id)
        context = await memory.recall(conv.user_id, q.question, token_budget=token_budget)
        now = max(ep.occurred_at for ep in conv.episodes)
        messages = respond.build_messages(
            respond.RespondInput(now=now, memory=context.text, message=q.question)
        )
        t0 = time.perf_counter()
        answer, _ = await gateway.text(messages, task="locomo_answer")
        result.answer_ms.append((time.perf_counter() - t0) * 1000)
        judged: bool | None = None
        reason = ""
        if judge is not None:
            try:
                verdict = (
                    await judge.complete(
                        judge_messages(q.question, gold, answer), Verdict, task=JUDGE_TASK
                    )
                ).value
                judged, reason = verdict.correct, verdict.reason
            except LLMError as exc:
                # A question the judge could not grade counts as wrong, and is counted.
                log.warning("judge failed on %r: %s", q.question, exc)
                result.judge_errors.add(
                    exc.code, exc.message, sample=conv.sample_id, question=q.question
                )
                judged = False
        row = _Row(q.category, token_f1(answer, gold), judged, context.tokens)
        result.rows.append(row)
        if len(result.examples) < examples:
            result.examples.append(
                {"question": q.question, "category": q.category, "gold": gold,
                 "answer": answer, "correct": judged, "reason": reason, "f1": round(row.f1, 3)}
            )  # fmt: skip
    result.llm = gateway.accounting.by_task()
    if judge is not None and judge is not gateway:
        result.llm.update(judge.accounting.by_task())
    return result
