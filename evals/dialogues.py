"""The dialogues evaluation: memory on hand-written chats it was not tuned to.

Each user of a dialogues file (format: ``shared/data/dialogues/README.md``) is run through
memory in one of three modes:

* ``agent``: every message is one :meth:`~memlane.agent.api.MemoryAgent.achat` at the
  message's own time, with the configured model (the offline model by default);
* ``gold``: the annotated facts are committed with :meth:`Memory.commit` at the message that
  states them (and an ended fact is closed at the message that ends it): memory's time rules
  on perfect extraction;
* ``turns``: only the messages are stored (plain retrieval over raw turns, the baseline).

Then the memory is scored against the annotations, exactly as the file's README describes:
fact recall (value and validity window at the gold window's midpoint), precision of the
stored facts, changes handled, stale values kept out of the current facts, and questions
answered (an ``expect`` string among the answer context's fact lines, no ``not`` string in a
fact it presents as current; for ``turns``, an ``expect`` string among its top 5 messages).

Matching follows the README: case-folded, on word boundaries, diacritics as written.
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tqdm import tqdm

from memlane.evals.metrics import percentile
from memlane.memory_graph.drafts import FactDraft
from memlane.memory_graph.errors import InputError, MemlaneError
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import (
    SELF_ID,
    Entity,
    Episode,
    Fact,
    FactQuery,
    episode_id_for,
)
from memlane.memory_graph.predicates import PredicateRegistry
from memlane.memory_graph.retrieval.context import MemoryContext, fact_line
from memlane.memory_graph.timeutil import parse_time

__all__ = [
    "MODES",
    "DialogueResult",
    "DialogueUser",
    "Mode",
    "load_dialogues",
    "matches",
    "run_dialogues",
]

log = logging.getLogger(__name__)

Mode = Literal["agent", "gold", "turns"]
MODES: tuple[Mode, ...] = ("agent", "gold", "turns")
QUESTION_TYPES = ("current", "past", "yes_no", "third_party", "abstain")
TOP_MESSAGES = 5
_IDENTITY = ("name", "age")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "does",
        "do",
        "did",
        "what",
        "whats",
        "what's",
        "which",
        "who",
        "whom",
        "whose",
        "where",
        "when",
        "how",
        "much",
        "many",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "her",
        "his",
        "their",
        "he",
        "she",
        "they",
        "it",
        "its",
        "s",
        "name",
        "now",
        "still",
        "any",
    ]
)


# -- the data ----------------------------------------------------------------------------------
class _GoldFact(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject: str
    relation: str
    value: str
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    source: int
    ended_by: int | None = None


class _Question(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str
    as_of: str | None = None
    expect: list[str]
    not_: list[str] = Field(default_factory=list, alias="not")
    type: Literal["current", "past", "yes_no", "third_party", "abstain"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    at: str
    text: str = Field(min_length=1)


class DialogueUser(BaseModel):
    """One user of a dialogues file: messages in time order, gold facts, questions."""

    model_config = ConfigDict(extra="ignore")

    user: str
    name: str
    messages: list[_Message]
    facts: list[_GoldFact]
    questions: list[_Question]

    def at(self, index: int) -> datetime:
        """The time of message ``index``."""
        return parse_time(self.messages[index].at, field="at")

    @property
    def end(self) -> datetime:
        """ "Now" for the questions: just after the last message."""
        return self.at(len(self.messages) - 1) + timedelta(minutes=1)


def load_dialogues(path: Path) -> list[DialogueUser]:
    """Read a dialogues file.

    Raises:
        InputError: the file is missing, not JSON, or not in the dialogues format.
    """
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"no such file: {path}", where="data") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path} is not a readable JSON file: {exc}", where="data") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("users"), list):
        raise InputError(f"{path}: expected an object with a 'users' list", where="data")
    users: list[DialogueUser] = []
    for i, item in enumerate(raw["users"]):
        try:
            user = DialogueUser.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise InputError(f"{err['msg']}", where=f"users[{i}].{loc}") from exc
        for j, fact in enumerate(user.facts):
            for idx in (fact.source, fact.ended_by):
                if idx is not None and not 0 <= idx < len(user.messages):
                    raise InputError(
                        f"message index {idx} out of range", where=f"users[{i}].facts[{j}]"
                    )
        users.append(user)
    return users


# -- matching ----------------------------------------------------------------------------------
def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def matches(needle: str, haystack: str) -> bool:
    """Whether ``needle`` appears in ``haystack``, case-folded, on word boundaries."""
    n = _fold(needle)
    if not n:
        return False
    return re.search(rf"(?<!\w){re.escape(n)}(?!\w)", _fold(haystack)) is not None


def _date(text: str | None) -> datetime | None:
    return parse_time(text, field="date") if text else None


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime

    @property
    def mid(self) -> datetime:
        return self.start + (self.end - self.start) / 2


def gold_window(user: DialogueUser, fact: _GoldFact) -> _Window:
    """The gold window by the README's rule (start from ``from``, an old story's ``to`` less a
    day, else the source message; end ``to``, else a day after the last message)."""
    said = user.at(fact.source)
    to = _date(fact.to)
    if fact.from_:
        start = _date(fact.from_)
    elif to is not None and to < said:
        start = to - timedelta(days=1)
    else:
        start = said
    end = to if to is not None else user.at(len(user.messages) - 1) + timedelta(days=1)
    assert start is not None
    return _Window(start, end)


@dataclass
class _Graph:
    """A user's stored memory, as the scorer reads it."""

    facts: list[Fact]
    entities: dict[str, Entity]

    def subject_ids(self, subject: str) -> set[str]:
        if subject.casefold() == "user":
            return {SELF_ID}
        key = _fold(subject)
        return {
            e.id
            for e in self.entities.values()
            if any(_fold(label) == key for label in (e.name, *e.aliases))
        }

    def value_text(self, fact: Fact) -> str:
        if fact.object_id and fact.object_id in self.entities:
            ent = self.entities[fact.object_id]
            return " | ".join((ent.name, *ent.aliases))
        return fact.value or fact.statement

    def relation_text(self, fact: Fact, registry: PredicateRegistry) -> str:
        """``"relation value"`` as the README's ``not`` strings are phrased, and the statement
        without its subject's names: "Darnell lives in Decatur" is no claim that Darnell is
        the partner, so a ``not`` of "Darnell" does not match it."""
        relation = fact.predicate.replace("_", " ")
        if fact.polarity == "negative":
            antonym = next(
                (a.name for a in registry.antonyms.values() if a.negates == fact.predicate), None
            )
            relation = antonym.replace("_", " ") if antonym else f"not {relation}"
        statement = fact.statement
        subject = self.entities.get(fact.subject_id) if fact.subject_id != SELF_ID else None
        for name in (subject.name, *subject.aliases) if subject else ():
            statement = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", statement, flags=re.I)
        return f"{relation} {self.value_text(fact)} || {statement}"

    def about(self, subject: str) -> list[Fact]:
        ids = self.subject_ids(subject)
        return [f for f in self.facts if f.subject_id in ids and not f.is_retracted]


def _value_matches(gold_value: str, stored: str) -> bool:
    return any(matches(gold_value, part) for part in stored.split(" | "))


# -- results -----------------------------------------------------------------------------------
@dataclass
class _UserScore:
    user: str
    facts: int = 0
    recalled: int = 0
    closed: int = 0
    closed_recalled: int = 0
    stored: int = 0
    true_stored: int = 0
    changes: int = 0
    changes_handled: int = 0
    stale_total: int = 0
    stale_kept_out: int = 0
    identity_overwrites: int = 0
    questions: dict[str, list[int]] = field(default_factory=dict)  # type -> [right, n]
    # type -> [answering fact ranked first, answering fact in the context, n]
    ranking: dict[str, list[int]] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)

    def miss(self, what: str, fact: str, message: str = "") -> None:
        self.misses.append({"user": self.user, "what": what, "fact": fact, "message": message})

    def ask(self, qtype: str, answer: _Answer) -> None:
        row = self.questions.setdefault(qtype, [0, 0])
        row[0] += int(answer.right)
        row[1] += 1
        if answer.first is not None:
            rank = self.ranking.setdefault(qtype, [0, 0, 0])
            rank[0] += int(answer.first)
            rank[1] += int(bool(answer.in_context))
            rank[2] += 1


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


class DialogueResult(BaseModel):
    """The scores of one run (one mode over every user)."""

    mode: str
    model: str
    users: list[dict[str, Any]]
    totals: dict[str, Any]
    questions: dict[str, dict[str, Any]]
    latency_ms: dict[str, float]
    llm: dict[str, float]
    misses: list[dict[str, Any]]
    write_errors: list[dict[str, str]] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump()


# -- driving memory ----------------------------------------------------------------------------
class _Clock:
    """Memory's "now": the time of the message being handled."""

    def __init__(self) -> None:
        self.now = datetime(2000, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _session(when: datetime) -> str:
    # One thread per local-ish day: messages minutes apart share their context.
    return "d" + when.strftime("%Y%m%d")


def _episode(user_id: str, user: DialogueUser, index: int) -> Episode:
    when = user.at(index)
    text = user.messages[index].text
    session = _session(when)
    return Episode(
        id=episode_id_for(session, "user", when, text),
        user_id=user_id,
        session_id=session,
        role="user",
        content=text,
        occurred_at=when,
        recorded_at=when,
    )


_RELATIONS = {
    "lived in": "lives_in",
    "mother": "has_parent",
    "father": "has_parent",
    "grandchild": "related_to",
    "engaged to": "partner",
    "separated from": "related_to",
    "flatmate": "related_to",
    "studied at": "studies_at",
    "stationed at": "lives_in",
    "staying in": "lives_in",
    "from": "hometown",
    "citizenship": "nationality",
}


def _predicate(relation: str, registry: PredicateRegistry) -> str:
    """The registered predicate a gold relation is committed under (``note`` if none)."""
    raw = _RELATIONS.get(relation.casefold(), relation)
    try:
        # An antonym keeps its own name: the reconciler flips the polarity.
        return registry.canonical(raw)
    except InputError:
        return "note"


def _gold_draft(
    user: DialogueUser, fact: _GoldFact, registry: PredicateRegistry, episode: str
) -> FactDraft:
    said = user.at(fact.source)
    to = _date(fact.to)
    # Only what the source message says: the end of a fact still true then is not known yet.
    story = fact.ended_by is None and to is not None
    subject = "user" if fact.subject == "user" else fact.subject
    return FactDraft(
        subject=subject,
        predicate=_predicate(fact.relation, registry),
        object=fact.value,
        object_kind="value",
        statement=f"{user.name if subject == 'user' else subject} {fact.relation} {fact.value}",
        valid_at=_date(fact.from_),
        invalid_at=to if story or (to is not None and to <= said) else None,
        episode_ids=[episode],
    )


class _Runner:
    def __init__(
        self,
        memory: Memory,
        clock: _Clock,
        mode: Mode,
        agent: Any = None,
        gateway: Any = None,
    ) -> None:
        self.memory = memory
        self.clock = clock
        self.mode = mode
        self.agent = agent
        self.gateway = gateway
        self.latencies: list[float] = []
        self.calls_per_turn: list[int] = []
        self.tokens_per_turn: list[int] = []
        self.errors: list[dict[str, str]] = []

    async def feed(
        self, user_id: str, user: DialogueUser, done: Callable[[], object] = lambda: None
    ) -> None:
        """Every message of ``user`` at its own time; ``done`` after each one (progress)."""
        registry = self.memory.registry
        for i in range(len(user.messages)):
            when = user.at(i)
            self.clock.now = when
            episode = _episode(user_id, user, i)
            before = len(self.gateway.accounting.records) if self.gateway else 0
            started = time.perf_counter()
            if self.mode == "agent":
                result = await self.agent.achat(
                    user_id, episode.content, session_id=episode.session_id, at=when
                )
                if result.write_status == "failed":
                    err = result.write_error or {}
                    self.errors.append(
                        {
                            "user": user.user,
                            "message": str(i),
                            **{k: str(v) for k, v in err.items()},
                        }
                    )
            elif self.mode == "gold":
                await self._gold_turn(user_id, user, i, episode, registry)
            else:
                await self.memory.add_episodes([episode])
            self.latencies.append((time.perf_counter() - started) * 1000)
            if self.gateway is not None:
                records = self.gateway.accounting.records[before:]
                self.calls_per_turn.append(len(records))
                self.tokens_per_turn.append(
                    sum(r.prompt_tokens + r.completion_tokens for r in records)
                )
            done()

    async def _gold_turn(
        self,
        user_id: str,
        user: DialogueUser,
        index: int,
        episode: Episode,
        registry: PredicateRegistry,
    ) -> None:
        # A fact this message ends is restated with its end (the rule closes the open
        # period), before what the message starts: "engaged to M" ends where "married to M"
        # begins, and the new period must not be taken for a restatement of the old one.
        drafts = [
            _gold_draft(user, f, registry, episode.id).model_copy(
                update={"invalid_at": _date(f.to)}
            )
            for f in user.facts
            if f.ended_by == index and f.to
        ]
        drafts += [
            _gold_draft(user, f, registry, episode.id) for f in user.facts if f.source == index
        ]
        try:
            await self.memory.commit(user_id, drafts, [episode])
            return
        except MemlaneError:
            pass
        # One draft memory rejects must not hide the others: commit them one by one, and
        # count each rejection as a write error of the run.
        for draft in drafts:
            try:
                await self.memory.commit(user_id, [draft], [episode])
            except MemlaneError as exc:
                self.errors.append(
                    {
                        "user": user.user,
                        "message": str(index),
                        "code": exc.code,
                        "error": exc.message,
                        "draft": draft.statement,
                    }
                )


# -- scoring -----------------------------------------------------------------------------------
def _changes(user: DialogueUser) -> list[tuple[_GoldFact, _GoldFact | None]]:
    """Gold changes: an ended fact and the value that replaced it (same subject and relation)."""
    out: list[tuple[_GoldFact, _GoldFact | None]] = []
    for old in user.facts:
        if old.ended_by is None or old.to is None:
            continue
        new = next(
            (
                f
                for f in user.facts
                if f is not old
                and f.subject == old.subject
                and f.relation == old.relation
                and f.value != old.value
                and (f.source == old.ended_by or (f.from_ is not None and f.from_ == old.to))
            ),
            None,
        )
        if new is not None:
            out.append((old, new))
    return out


def _recalled(user: DialogueUser, graph: _Graph, fact: _GoldFact) -> bool:
    mid = gold_window(user, fact).mid
    return any(
        _value_matches(fact.value, graph.value_text(f)) and f.valid_during(mid)
        for f in graph.about(fact.subject)
    )


def _gold_polarity(relation: str, registry: PredicateRegistry) -> str:
    """The polarity a gold relation is stored with: ``dislikes`` is ``likes``, negative."""
    try:
        negated = registry.resolve(_predicate(relation, registry)).negated
    except MemlaneError:
        negated = False
    return "negative" if negated else "positive"


def _current_value(graph: _Graph, subject: str, value: str, polarity: str = "positive") -> bool:
    """Whether memory holds ``value`` for ``subject`` as current, with the gold relation's
    polarity: "no longer dating Darnell" (a current negative fact) does not hold Darnell as
    the partner, and a current "likes running" does not hold the old "dislikes running"."""
    return any(
        f.is_current and f.polarity == polarity and _value_matches(value, graph.value_text(f))
        for f in graph.about(subject)
    )


def _true(graph: _Graph, user: DialogueUser, fact: Fact, subjects: dict[str, set[str]]) -> bool:
    stored = graph.value_text(fact)
    if fact.subject_id == SELF_ID and fact.predicate == "name":
        # The file's ``name`` is the user's gold name; its facts never repeat it.
        return _value_matches(user.name, stored)
    for g in user.facts:
        if fact.subject_id not in subjects[g.subject]:
            continue
        if _value_matches(g.value, stored) or any(
            matches(part, g.value) for part in stored.split(" | ") if part.strip()
        ):
            return True
    return False


def _fact_lines(ctx: MemoryContext) -> list[tuple[Fact, str]]:
    return [(cf.fact, fact_line(cf)) for cf in (*ctx.profile, *ctx.facts, *ctx.superseded)]


def _content_words(question: str) -> set[str]:
    words = re.findall(r"[A-Za-z']+", question)
    return {
        w.casefold().removesuffix("'s")
        for w in words
        if not w[0].isupper() and w.casefold().removesuffix("'s") not in _STOP
    }


@dataclass(frozen=True)
class _Answer:
    """How one question fared: ``right`` is the README's score; ``first`` (the best-ranked
    fact holds an ``expect`` string) and ``in_context`` (some fact line does) measure the
    ranking, and are None where they do not apply (raw turns, abstain questions)."""

    right: bool
    shown: str
    first: bool | None = None
    in_context: bool | None = None


async def _ask(
    memory: Memory,
    registry: PredicateRegistry,
    graph: _Graph,
    user_id: str,
    user: DialogueUser,
    q: _Question,
    mode: Mode,
) -> _Answer:
    when = _date(q.as_of) or user.end
    ctx = await memory.recall(user_id, q.q, as_of=_date(q.as_of))
    if mode == "turns":
        top = [ce.episode.content for ce in ctx.episodes[:TOP_MESSAGES]]
        if q.type == "abstain":
            return _Answer(True, "(no facts in a raw-turns memory)")
        right = any(matches(e, t) for e in q.expect for t in top)
        return _Answer(right, "\n".join(f"  > {t}" for t in top))
    lines = _fact_lines(ctx)
    shown = "\n".join(f"  {line}" for _, line in lines[:8])
    current = [f for f, _ in lines if f.valid_during(when) and (q.as_of or f.is_current)]
    if q.type == "abstain":
        words = _content_words(q.q)
        claims = [
            f
            for f in current
            if words & {w.casefold() for w in re.findall(r"[A-Za-z']+", f.statement)}
        ]
        return _Answer(not claims, shown)
    found = any(matches(e, line) for e in q.expect for _, line in lines)
    stale = any(matches(n, graph.relation_text(f, registry)) for n in q.not_ for f in current)
    ranked = ctx.ranked_facts()
    first = bool(ranked) and any(matches(e, fact_line(ranked[0])) for e in q.expect)
    return _Answer(found and not stale, shown, first=first, in_context=found)


async def _score_user(memory: Memory, user_id: str, user: DialogueUser, mode: Mode) -> _UserScore:
    score = _UserScore(user.user)
    facts = await memory.store.find_facts(
        user_id, FactQuery(include_retracted=True, limit=1_000_000)
    )
    entities = {e.id: e for e in await memory.entities(user_id)}
    graph = _Graph(facts, entities)
    registry = memory.registry
    subjects = {g.subject: graph.subject_ids(g.subject) for g in user.facts}

    for g in user.facts:
        score.facts += 1
        ok = _recalled(user, graph, g)
        score.recalled += ok
        if g.to is not None:
            score.closed += 1
            score.closed_recalled += ok
        if not ok:
            score.miss(
                "fact",
                f"{g.subject} {g.relation} {g.value} [{g.from_} → {g.to}]",
                user.messages[g.source].text,
            )
    live = [f for f in facts if not f.is_retracted]
    if mode != "turns":
        for f in live:
            score.stored += 1
            if _true(graph, user, f, subjects):
                score.true_stored += 1
            else:
                score.miss("untrue fact", f.statement)
        golds = [g for g in user.facts if g.subject == "user" and g.relation in _IDENTITY]
        for f in live:
            if f.subject_id == SELF_ID and f.predicate in _IDENTITY:
                values = [user.name] if f.predicate == "name" else [g.value for g in golds]
                if not any(_value_matches(v, graph.value_text(f)) for v in values):
                    score.identity_overwrites += 1
    current_values = {
        (g.subject, _fold(g.value)) for g in user.facts if g.to is None
    }  # a value that is also true now (moved back) is not stale
    for old, new in _changes(user):
        score.changes += 1
        back = (old.subject, _fold(old.value)) in current_values
        handled = _recalled(user, graph, old) and (
            back
            or not _current_value(
                graph, old.subject, old.value, _gold_polarity(old.relation, registry)
            )
        )
        handled = handled and (new is None or _recalled(user, graph, new))
        score.changes_handled += handled
        if not handled:
            score.miss(
                "change",
                f"{old.subject} {old.relation}: {old.value} → {new.value if new else '(ended)'}",
                user.messages[old.ended_by or old.source].text,
            )
    for g in user.facts:
        if g.to is None or (g.subject, _fold(g.value)) in current_values:
            continue
        score.stale_total += 1
        kept_out = not _current_value(
            graph, g.subject, g.value, _gold_polarity(g.relation, registry)
        )
        score.stale_kept_out += kept_out
        if not kept_out:
            score.miss(
                "stale",
                f"{g.subject} {g.relation} {g.value} (ended {g.to}) is still current",
                user.messages[g.ended_by].text if g.ended_by is not None else "",
            )
    for q in user.questions:
        answer = await _ask(memory, registry, graph, user_id, user, q, mode)
        score.ask(q.type, answer)
        if not answer.right:
            score.miss(
                f"question ({q.type})", f"{q.q} expect {q.expect} not {q.not_}", answer.shown
            )
    return score


def _ranking_totals(scores: list[_UserScore], column: int) -> tuple[int, int]:
    rows = [row for s in scores for row in s.ranking.values()]
    return sum(row[column] for row in rows), sum(row[2] for row in rows)


def _summarise(mode: Mode, model: str, scores: list[_UserScore], runner: _Runner) -> DialogueResult:
    def total(attr: str) -> int:
        return sum(getattr(s, attr) for s in scores)

    questions: dict[str, dict[str, Any]] = {}
    for t in QUESTION_TYPES:
        right = sum(s.questions.get(t, [0, 0])[0] for s in scores)
        n = sum(s.questions.get(t, [0, 0])[1] for s in scores)
        questions[t] = {"right": right, "n": n, "rate": _ratio(right, n)}
        ranked = [sum(s.ranking.get(t, [0, 0, 0])[i] for s in scores) for i in range(3)]
        if ranked[2]:
            questions[t]["first"] = _ratio(ranked[0], ranked[2])
            questions[t]["in_context"] = _ratio(ranked[1], ranked[2])
    answered = [t for t in QUESTION_TYPES if t != "abstain"]
    q_right = sum(questions[t]["right"] for t in answered)
    q_n = sum(questions[t]["n"] for t in answered)
    users = []
    for s in scores:
        qr = sum(v[0] for k, v in s.questions.items() if k != "abstain")
        qn = sum(v[1] for k, v in s.questions.items() if k != "abstain")
        users.append(
            {
                "user": s.user,
                "fact_recall": _ratio(s.recalled, s.facts),
                "closed_recall": _ratio(s.closed_recalled, s.closed),
                "precision": _ratio(s.true_stored, s.stored),
                "stored": s.stored,
                "changes_handled": _ratio(s.changes_handled, s.changes),
                "stale_kept_out": _ratio(s.stale_kept_out, s.stale_total),
                "identity_overwrites": s.identity_overwrites,
                "questions_answered": _ratio(qr, qn),
            }
        )
    n_turns = len(runner.latencies)
    totals = {
        "users": len(scores),
        "turns": n_turns,
        "fact_recall": _ratio(total("recalled"), total("facts")),
        "facts": total("facts"),
        "closed_recall": _ratio(total("closed_recalled"), total("closed")),
        "precision": _ratio(total("true_stored"), total("stored")) if mode != "turns" else None,
        "stored_facts": total("stored"),
        "changes_handled": _ratio(total("changes_handled"), total("changes")),
        "changes": total("changes"),
        "stale_kept_out": _ratio(total("stale_kept_out"), total("stale_total")),
        "stale_values": total("stale_total"),
        "identity_overwrites": total("identity_overwrites") if mode != "turns" else None,
        "questions_answered": _ratio(q_right, q_n),
        "questions": q_n,
        "abstain_passed": _ratio(questions["abstain"]["right"], questions["abstain"]["n"]),
        # The ranking's own scores (not in raw-turns mode): the best-ranked fact answers the
        # question, and some fact line in the context does.
        "answer_first": _ratio(*_ranking_totals(scores, 0)),
        "answer_in_context": _ratio(*_ranking_totals(scores, 1)),
    }
    calls = runner.calls_per_turn
    tokens = runner.tokens_per_turn
    return DialogueResult(
        mode=mode,
        model=model if mode == "agent" else "(none)",
        users=users,
        totals=totals,
        questions=questions,
        latency_ms={
            "p50": round(percentile(runner.latencies, 0.5), 1),
            "p95": round(percentile(runner.latencies, 0.95), 1),
        },
        llm={
            "calls_per_turn": round(statistics.fmean(calls), 3) if calls else 0.0,
            "tokens_per_turn": round(statistics.fmean(tokens), 1) if tokens else 0.0,
        },
        misses=[m for s in scores for m in s.misses],
        write_errors=runner.errors,
    )


async def run_dialogues(
    users: Sequence[DialogueUser],
    memory: Memory,
    *,
    mode: Mode,
    clock: _Clock,
    agent: Any = None,
    gateway: Any = None,
    model: str = "",
    progress: bool = True,
    user_prefix: str = "dlg-",
) -> DialogueResult:
    """Feed every user's messages through memory in ``mode``, then score it.

    Args:
        users: from :func:`load_dialogues`.
        memory: the memory to write (its clock must be ``clock``).
        mode: ``agent``, ``gold`` or ``turns``.
        clock: set to each message's time before it is handled.
        agent: the :class:`~memlane.agent.api.MemoryAgent` over ``memory`` (mode ``agent``).
        gateway: the agent's gateway, whose call records give LLM calls and tokens per turn.
        model: the model name, for the report.
        progress: show a progress bar on stderr.
        user_prefix: prefixed to each user id (a shared store keeps other data apart).
    """
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", where="mode")
    if mode == "agent" and agent is None:
        raise InputError("mode 'agent' needs an agent", where="agent")
    runner = _Runner(memory, clock, mode, agent, gateway)
    scores: list[_UserScore] = []
    total = sum(len(u.messages) for u in users)
    with tqdm(total=total, desc=f"dialogues ({mode})", unit="msg", disable=not progress) as bar:
        for user in users:
            user_id = f"{user_prefix}{user.user}"[:120]
            bar.set_postfix(user=user.user)
            # The bar moves per message: a real model takes seconds a turn.
            await runner.feed(user_id, user, lambda: bar.update(1))
            clock.now = user.end
            scores.append(await _score_user(memory, user_id, user, mode))
    return _summarise(mode, model, scores, runner)


def make_clock() -> _Clock:
    """A clock for :func:`run_dialogues` and the :class:`Memory` it drives."""
    return _Clock()
