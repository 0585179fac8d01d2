"""LoCoMo evidence recall: does ``Memory.recall`` surface the turns a question's answer is in?

No LLM is involved. Each conversation of a LoCoMo-format file becomes its own user: its turns
are stored as episodes (dated by their session, speaker kept, image captions appended), and
in ``observations``/``both`` mode the dataset's ``observation`` entries are committed as
facts (predicate ``note``, subject the speaker, provenance the turn they came from), all
through the public :class:`~memlane.memory_graph.memory.Memory` API. Every category 1-4 question is
then asked through ``Memory.recall``, exactly as the agent asks, and the ranked context
(facts count for their source turns) is scored by recall@k of the evidence turn ids.

Data format: Maharana et al., "Evaluating Very Long-Term Conversational Memory of LLM
Agents" (ACL 2024), ``locomo10.json``.
"""

from __future__ import annotations

import calendar
import json
import logging
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from memlane.evals.answer_check import AnswerMatch, answer_in_context
from memlane.evals.metrics import percentile
from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.embedding.port import Embedder
from memlane.memory_graph.errors import InputError
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Episode
from memlane.memory_graph.stores.base import GraphStore

__all__ = [
    "Conversation",
    "LocomoResult",
    "Mode",
    "Question",
    "evidence_ids",
    "load_locomo",
    "parse_session_time",
    "run_locomo",
]

log = logging.getLogger(__name__)

Mode = Literal["turns", "observations", "both"]
CATEGORIES = (1, 2, 3, 4)
CATEGORY_NAMES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
_EVIDENCE = re.compile(r"D\d+:\d+")
_SESSION = re.compile(r"^session_(\d+)$")
_SESSION_TIME = re.compile(
    r"^\s*(\d{1,2}):(\d{2})\s*([ap]m)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})\s*$",
    re.IGNORECASE,
)
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}


def parse_session_time(text: str, *, where: str = "date_time") -> datetime:
    """Parse LoCoMo's ``"1:56 pm on 8 May, 2023"`` (UTC).

    Raises:
        InputError: the text is not in that format.
    """
    m = _SESSION_TIME.match(text or "")
    month = _MONTHS.get(m.group(5).lower()) if m else None
    if not m or month is None:
        raise InputError(
            f"not a LoCoMo session time: {text!r} (expected e.g. '1:56 pm on 8 May, 2023')",
            where=where,
        )
    hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "pm" else 0)
    try:
        return datetime(int(m.group(6)), month, int(m.group(4)), hour, int(m.group(2)), tzinfo=UTC)
    except ValueError as exc:
        raise InputError(f"not a valid date: {text!r}", where=where) from exc


def evidence_ids(evidence: Sequence[object]) -> list[str]:
    """Turn ids of a question's evidence; one entry may hold several (``"D8:6; D9:17"``)."""
    out: list[str] = []
    for item in evidence:
        out.extend(_EVIDENCE.findall(str(item)))
    return list(dict.fromkeys(out))


@dataclass
class Question:
    question: str
    category: int
    evidence: list[str]
    answer: str = ""


@dataclass
class Conversation:
    """One LoCoMo sample, as memlane records."""

    sample_id: str
    user_id: str
    episodes: list[Episode]
    observations: list[FactDraft]
    questions: list[Question]


def _user_id(sample_id: str, index: int) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "-", sample_id).strip("-") or f"conv{index}"
    return f"locomo-{cleaned}"[:120]


def _turn_content(turn: dict[str, Any]) -> str:
    text = str(turn.get("text") or "").strip()
    caption = str(turn.get("blip_caption") or "").strip()
    if caption:
        text = f"{text} [shares a photo: {caption}]".strip()
    return text


def _conversation(sample: object, index: int, now: datetime) -> Conversation:
    where = f"sample {index}"
    if not isinstance(sample, dict) or not isinstance(sample.get("conversation"), dict):
        raise InputError("expected an object with a 'conversation' object", where=where)
    sample_id = str(sample.get("sample_id") or f"conv-{index}")
    where = f"sample {sample_id}"
    user_id = _user_id(sample_id, index)
    conv = sample["conversation"]
    episodes: list[Episode] = []
    session_times: dict[int, datetime] = {}
    for key, turns in conv.items():
        m = _SESSION.match(key)
        if not m:
            continue
        number = int(m.group(1))
        if not isinstance(turns, list):
            raise InputError(f"{key} is not a list of turns", where=where)
        started = parse_session_time(
            str(conv.get(f"{key}_date_time", "")), where=f"{where} {key}_date_time"
        )
        session_times[number] = started
        for i, turn in enumerate(turns):
            if not isinstance(turn, dict) or "dia_id" not in turn:
                raise InputError(f"turn {i} has no dia_id", where=f"{where} {key}")
            content = _turn_content(turn)
            if not content:
                continue
            episodes.append(
                Episode(
                    id=str(turn["dia_id"]),
                    user_id=user_id,
                    session_id=key,
                    role="user",
                    speaker=str(turn.get("speaker") or "") or None,
                    content=content,
                    # Turns of a session share its time; a second apiece keeps their order.
                    occurred_at=started + timedelta(seconds=i),
                    recorded_at=now,
                )
            )
    known = {ep.id for ep in episodes}
    observations: list[FactDraft] = []
    for key, per_speaker in (sample.get("observation") or {}).items():
        m = re.search(r"session_(\d+)", key)
        if not m or not isinstance(per_speaker, dict):
            continue
        when = session_times.get(int(m.group(1)))
        for speaker, items in per_speaker.items():
            for item in items or []:
                if not isinstance(item, list | tuple) or len(item) < 2:
                    continue
                text = str(item[0]).strip()
                sources = [e for e in evidence_ids([item[1]]) if e in known]
                if not text or not sources:
                    continue
                observations.append(
                    FactDraft(
                        subject=speaker,
                        subject_kind="person",
                        predicate="note",
                        # No value: a note is told apart from another by its statement.
                        statement=text[:2000],
                        valid_at=when,
                        episode_ids=sources,
                    )
                )
    questions = [
        Question(
            str(q.get("question", "")),
            int(q["category"]),
            evidence_ids(q["evidence"]),
            str(q.get("answer") or ""),
        )
        for q in sample.get("qa") or []
        if isinstance(q, dict)
        and q.get("category") in CATEGORIES
        and q.get("question")
        and evidence_ids(q.get("evidence") or [])
    ]
    return Conversation(sample_id, user_id, episodes, observations, questions)


def load_locomo(path: str | Path, *, now: datetime | None = None) -> list[Conversation]:
    """Read a LoCoMo-format JSON file.

    Raises:
        InputError: the file is missing, not JSON, or not in the LoCoMo format.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", where=str(p)) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} (line {exc.lineno})", where=str(p)) from exc
    if not isinstance(data, list):
        raise InputError("expected a JSON list of conversations", where=str(p))
    stamp = now or datetime.now(UTC)
    return [_conversation(sample, i, stamp) for i, sample in enumerate(data)]


@dataclass
class LocomoResult:
    """Scores of one run; :meth:`to_dict` is the ``--json`` output."""

    mode: str
    ks: list[int]
    embedder: str
    preset: str
    conversations: int
    n_questions: int = 0
    recall_sum: dict[int, float] = field(default_factory=dict)
    per_category: dict[int, dict[int, list[float]]] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    context_tokens: list[int] = field(default_factory=list)
    tokens_by_category: dict[int, list[int]] = field(default_factory=dict)
    answers: dict[int, list[AnswerMatch]] = field(default_factory=dict)
    ingest_seconds: float = 0.0
    episodes: int = 0
    facts: int = 0

    def add(
        self,
        category: int,
        ranked: list[str],
        evidence: list[str],
        *,
        answer: AnswerMatch | None = None,
        tokens: int | None = None,
    ) -> None:
        self.n_questions += 1
        gold = set(evidence)
        for k in self.ks:
            got = len(gold & set(ranked[:k])) / len(gold)
            self.recall_sum[k] = self.recall_sum.get(k, 0.0) + got
            self.per_category.setdefault(category, {}).setdefault(k, []).append(got)
        if answer is not None:
            self.answers.setdefault(category, []).append(answer)
        if tokens is not None:
            self.context_tokens.append(tokens)
            self.tokens_by_category.setdefault(category, []).append(tokens)

    def to_dict(self) -> dict[str, Any]:
        n = max(self.n_questions, 1)
        lat = sorted(self.latencies_ms)
        return {
            "benchmark": "locomo-evidence-recall",
            "mode": self.mode,
            "embedder": self.embedder,
            "preset": self.preset,
            "conversations": self.conversations,
            "n_questions": self.n_questions,
            "recall_at": {str(k): round(self.recall_sum.get(k, 0.0) / n, 4) for k in self.ks},
            "per_category": {
                str(cat): {
                    "name": CATEGORY_NAMES.get(cat, str(cat)),
                    "n": len(next(iter(by_k.values()))),
                    "recall_at": {str(k): round(statistics.fmean(v), 4) for k, v in by_k.items()},
                    "answer_in_context": _answer_scores(self.answers.get(cat, [])),
                    "context_tokens_median": _median(self.tokens_by_category.get(cat, [])),
                }
                for cat, by_k in sorted(self.per_category.items())
            },
            "answer_in_context": _answer_scores(
                [m for matches in self.answers.values() for m in matches]
            ),
            "latency_ms": {
                "p50": round(percentile(lat, 0.5), 2),
                "p95": round(percentile(lat, 0.95), 2),
                "mean": round(statistics.fmean(lat), 2) if lat else 0.0,
            },
            "context_tokens": {
                "median": statistics.median(self.context_tokens) if self.context_tokens else 0,
                "p95": percentile(self.context_tokens, 0.95),
            },
            "ingested": {
                "episodes": self.episodes,
                "facts": self.facts,
                "seconds": round(self.ingest_seconds, 2),
            },
        }


def _median(values: Sequence[int]) -> float:
    return float(statistics.median(values)) if values else 0.0


def _answer_scores(matches: Sequence[AnswerMatch]) -> dict[str, Any]:
    """The share of scorable questions whose whole gold answer is in the context, and the
    mean share of answer parts found (see :mod:`memlane.evals.answer_check`)."""
    scored = [m for m in matches if m.scored]
    n = max(len(scored), 1)
    return {
        "n_scored": len(scored),
        "complete": round(sum(m.complete for m in scored) / n, 4),
        "parts": round(sum(m.found / m.parts for m in scored) / n, 4),
    }


async def run_locomo(
    conversations: Sequence[Conversation],
    store: GraphStore,
    embedder: Embedder,
    *,
    mode: Mode = "both",
    ks: Sequence[int] = (5, 10, 20),
    preset: str = "balanced",
    token_budget: int | None = None,
    progress: bool = True,
) -> LocomoResult:
    """Ingest each conversation as its own user and score recall@k of evidence turns.

    Args:
        conversations: from :func:`load_locomo`.
        store: an opened store (the caller owns it).
        embedder: used for ingestion and queries.
        mode: ``turns`` (episodes only), ``observations`` (facts only), or ``both``.
        ks: cut-offs to score.
        preset: retrieval preset ``Memory.recall`` uses.
        token_budget: context budget per question (the preset's when None).
        progress: show tqdm bars on stderr.
    """
    if mode not in ("turns", "observations", "both"):
        raise InputError(f"unknown mode {mode!r}; use turns, observations or both", where="mode")
    if not ks or min(ks) < 1:
        raise InputError("k values must be positive integers", where="k")
    memory = Memory(store, embedder, retrieval=preset)
    result = LocomoResult(
        mode=mode,
        ks=sorted(set(ks)),
        embedder=getattr(embedder, "name", type(embedder).__name__),
        preset=preset,
        conversations=len(conversations),
    )
    started = time.perf_counter()
    for conv in tqdm(conversations, desc="ingest", disable=not progress, file=sys.stderr):
        await _ingest(memory, conv, mode, result)
    result.ingest_seconds = time.perf_counter() - started
    total = sum(len(c.questions) for c in conversations)
    bar = tqdm(total=total, desc=f"recall ({mode})", disable=not progress, file=sys.stderr)
    for conv in conversations:
        for q in conv.questions:
            t0 = time.perf_counter()
            context = await memory.recall(conv.user_id, q.question, token_budget=token_budget)
            result.latencies_ms.append((time.perf_counter() - t0) * 1000)
            result.add(
                q.category,
                context.ranked_episode_ids(),
                q.evidence,
                answer=answer_in_context(q.answer, context.text) if q.answer else None,
                tokens=context.tokens,
            )
            bar.update()
    bar.close()
    return result


async def _ingest(memory: Memory, conv: Conversation, mode: Mode, result: LocomoResult) -> None:
    if mode in ("turns", "both"):
        report = await memory.add_episodes(conv.episodes)
        result.episodes += report.episodes_added
    if mode in ("observations", "both"):
        # One commit per session, as an extraction pass over that session would make. In
        # ``observations`` mode the turns are not stored: the facts alone are searched, and
        # they still name their source turns.
        session_of = {ep.id: ep.session_id or "" for ep in conv.episodes}
        by_session: dict[str, list[FactDraft]] = {}
        for draft in conv.observations:
            by_session.setdefault(session_of[draft.episode_ids[0]], []).append(draft)
        for drafts in by_session.values():
            report = await memory.commit(conv.user_id, drafts)
            result.facts += report.facts_added
