"""Probes: questions asked at checkpoints, with exact expected answers from the gold facts.

A probe says what to read (``read``: a current value, a value as of a date, a history, a
start date, a preference's polarity, a set of values, a value reached through a person) and
what the answer must be. Expected answers come from :meth:`Timeline.known_after`, i.e. only
from what the user had said by the checkpoint.

Probe types (the keys of the report's ``accuracy``):

* ``current``: the user's current value of a functional predicate ("Where do I live now?");
* ``as_of``: a functional value on a past date, away from any boundary;
* ``history``: the values of a functional predicate in order;
* ``when``: the day a value began ("When did I move to Oslo?");
* ``preference``: whether the user likes something now (yes/no);
* ``multi``: the set of values of a multi-valued predicate (pets, hobbies, trips ...);
* ``multi_hop``: a fact of a person found through the user ("Which city does my sister
  live in?");
* ``abstain``: something never said; the answer must be ``unknown``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from memlane.evals.sim import vocab
from memlane.evals.sim.timeline import SELF, GoldFact, Timeline
from memlane.memory_graph.model import normalise_name

__all__ = [
    "PROBE_TYPES",
    "UNKNOWN",
    "Probe",
    "ProbeType",
    "checkpoints",
    "is_correct",
    "make_probes",
]

ProbeType = Literal[
    "current", "as_of", "history", "when", "preference", "multi", "multi_hop", "abstain"
]
PROBE_TYPES: tuple[ProbeType, ...] = (
    "current", "as_of", "history", "when", "preference", "multi", "multi_hop", "abstain",
)  # fmt: skip
Read = Literal["value", "as_of", "history", "when", "polarity", "set", "hop"]
UNKNOWN = "unknown"

_MARGIN = timedelta(days=10)
_YEAR_MARGIN = timedelta(days=370)

_CURRENT_Q = {
    "name": "What's my name?",
    "age": "How old am I?",
    "lives_in": "Where do I live now?",
    "works_at": "Where do I work now?",
    "job_title": "What's my job title?",
    "partner": "Who is my partner?",
    "diet": "What diet do I follow?",
}
_AS_OF_Q = {
    "lives_in": "Where did I live on {date}?",
    "works_at": "Where was I working on {date}?",
    "job_title": "What was my job title on {date}?",
    "partner": "Who was my partner on {date}?",
    "diet": "What diet was I following on {date}?",
}
_HISTORY_Q = {
    "lives_in": "List the places I've lived, oldest first.",
    "works_at": "List the places I've worked, oldest first.",
    "job_title": "What job titles have I had, in order?",
    "partner": "Who have my partners been, in order?",
    "diet": "What diets have I followed, in order?",
}
_WHEN_Q = {
    "lives_in": "When did I move to {x}?",
    "works_at": "When did I start working at {x}?",
    "job_title": "When did I become {x}?",
    "partner": "When did I get together with {x}?",
    "diet": "When did I go {x}?",
    "age": "When did I turn {x}?",
    "has_pet": "When did I get {x}?",
    "has_child": "When was {x} born?",
    "visited": "When did I visit {x}?",
    "attended": "When did I go to the {x}?",
}
_SET_Q = {
    "has_pet": "What are my pets called?",
    "hobby": "What are my hobbies?",
    "visited": "Which countries have I visited?",
    "allergic_to": "What am I allergic to?",
    "has_child": "What are my children's names?",
}
_HOP_Q = {
    "lives_in": "Which city does my {role} live in?",
    "works_at": "Where does my {role} work?",
}
_ABSTAIN_Q = {
    "studies_at": "Where did I go to university?",
    "nationality": "What's my nationality?",
    "hometown": "Where did I grow up?",
}


class Probe(BaseModel):
    """One question with an exact expected answer.

    ``expected`` is a string (a value, ``yes``/``no``, an ISO date, or ``unknown``) or a list
    (a history in order, or a set for ``multi``).
    """

    model_config = ConfigDict(frozen=True)

    id: str
    type: ProbeType
    read: Read
    checkpoint: int
    asked_at: datetime
    question: str
    subject: str = SELF
    predicate: str
    object: str | None = None
    via: str | None = None
    as_of: datetime | None = None
    expected: str | list[str]


def checkpoints(sessions: int, every: int) -> list[int]:
    """Sessions elapsed at each checkpoint: every ``every`` sessions, and at the end."""
    marks = list(range(every, sessions + 1, every)) if every > 0 else []
    if not marks or marks[-1] != sessions:
        marks.append(sessions)
    return marks


def _norm(value: str) -> str:
    return normalise_name(value)


def is_correct(probe: Probe, answer: str | list[str]) -> bool:
    """Exact scoring: normalised equality; order matters for ``history``, not for ``multi``."""
    expected = probe.expected
    if isinstance(expected, list):
        if not isinstance(answer, list):
            return False
        got = [_norm(a) for a in answer]
        want = [_norm(e) for e in expected]
        return got == want if probe.read == "history" else sorted(set(got)) == sorted(set(want))
    if isinstance(answer, list):
        return False
    return _norm(answer) == _norm(expected)


def _collapse(values: list[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        if not out or _norm(out[-1]) != _norm(v):
            out.append(v)
    return out


class _Maker:
    def __init__(self, timeline: Timeline, checkpoint: int, rng: random.Random) -> None:
        self.tl = timeline
        self.c = checkpoint
        self.rng = rng
        self.now = timeline.time_after(checkpoint)
        self.probes: list[Probe] = []

    def add(self, type_: ProbeType, read: Read, question: str, **fields: object) -> None:
        n = len(self.probes) + 1
        self.probes.append(
            Probe(
                id=f"c{self.c:04d}-{n:03d}",
                type=type_,
                read=read,
                checkpoint=self.c,
                asked_at=self.now,
                question=question,
                **fields,  # type: ignore[arg-type]
            )
        )

    def windows(self, predicate: str, subject: str = SELF) -> list[GoldFact]:
        return self.tl.windows(subject, predicate, self.c)

    def current(self, predicate: str, subject: str = SELF) -> GoldFact | None:
        live = [f for f in self.windows(predicate, subject) if f.invalid_at is None]
        return live[-1] if live else None

    # -- one method per probe type -------------------------------------------------------------
    def current_and_abstain(self) -> None:
        for predicate, question in _CURRENT_Q.items():
            cur = self.current(predicate)
            if cur is not None:
                self.add("current", "value", question, predicate=predicate, expected=cur.object)
            elif predicate in ("partner", "diet"):
                self.add("abstain", "value", question, predicate=predicate, expected=UNKNOWN)
        predicate = self.rng.choice(sorted(_ABSTAIN_Q))
        self.add("abstain", "value", _ABSTAIN_Q[predicate], predicate=predicate, expected=UNKNOWN)
        item = self.rng.choice(vocab.NEVER_MENTIONED_ITEMS)
        self.add(
            "abstain", "polarity", f"Do I like {item}?", predicate="likes", object=item,
            expected=UNKNOWN,
        )  # fmt: skip

    def as_of(self, per_predicate: int = 1) -> None:
        for predicate, template in _AS_OF_Q.items():
            spans = []
            for f in self.windows(predicate):
                lo = f.valid_at + (_YEAR_MARGIN if f.precision == "year" else _MARGIN)
                hi = min(f.invalid_at or self.now, self.now) - _MARGIN
                if hi > lo:
                    spans.append((f, lo, hi))
            # Past periods first: "as of" is about the past.
            closed = [s for s in spans if s[0].invalid_at is not None]
            for f, lo, hi in self.rng.sample(
                closed or spans, min(per_predicate, len(closed or spans))
            ):
                seconds = int((hi - lo).total_seconds())
                when = lo + timedelta(seconds=self.rng.randint(0, seconds))
                when = when.replace(hour=12, minute=0, second=0, microsecond=0)
                question = template.format(date=when.date().isoformat())
                self.add(
                    "as_of", "as_of", question, predicate=predicate, as_of=when, expected=f.object
                )

    def history(self) -> None:
        for predicate, question in _HISTORY_Q.items():
            values = _collapse([f.object for f in self.windows(predicate)])
            if len(values) >= 2:
                self.add("history", "history", question, predicate=predicate, expected=values)

    def when(self, limit: int = 4) -> None:
        options = []
        for predicate in _WHEN_Q:
            windows = self.windows(predicate)
            for f in windows:
                same = [g for g in windows if g.object_key == f.object_key]
                if (
                    f.told_in > 0
                    and f.precision in ("exact", "session")
                    and not f.planned
                    and len(same) == 1
                ):
                    options.append(f)
        for f in self.rng.sample(options, min(limit, len(options))):
            x = f.object
            if f.predicate == "job_title":
                x = ("an " if x[0].lower() in "aeiou" else "a ") + x
            question = _WHEN_Q[f.predicate].format(x=x)
            self.add(
                "when", "when", question, predicate=f.predicate, object=f.object,
                expected=f.valid_at.date().isoformat(),
            )  # fmt: skip

    def preference(self, limit: int = 5) -> None:
        items = sorted({f.object for f in self.windows("likes")})
        flipped = [i for i in items if len(self.tl.windows(SELF, "likes", self.c, i)) > 1]
        steady = [i for i in items if i not in flipped]
        picks = self.rng.sample(flipped, min(limit, len(flipped)))
        picks += self.rng.sample(steady, min(limit - len(picks), len(steady)))
        for item in picks:
            live = [f for f in self.tl.windows(SELF, "likes", self.c, item) if f.invalid_at is None]
            expected = "yes" if live[-1].polarity == "positive" else "no"
            self.add(
                "preference", "polarity", f"Do I like {item}?", predicate="likes", object=item,
                expected=expected,
            )  # fmt: skip

    def multi(self) -> None:
        for predicate, question in _SET_Q.items():
            values = sorted({f.object for f in self.windows(predicate) if f.invalid_at is None})
            if values:
                self.add("multi", "set", question, predicate=predicate, expected=values)

    def multi_hop(self) -> None:
        for person in self.tl.people_known_after(self.c):
            for predicate, template in _HOP_Q.items():
                cur = self.current(predicate, person.name)
                if cur is None:
                    continue
                self.add(
                    "multi_hop", "hop", template.format(role=person.role), subject=person.name,
                    via=person.relation, predicate=predicate, expected=cur.object,
                )  # fmt: skip


def make_probes(timeline: Timeline, checkpoint: int) -> list[Probe]:
    """The probes asked after ``checkpoint`` sessions (deterministic per seed and checkpoint).

    Raises:
        ValueError: ``checkpoint`` is not between 1 and the number of sessions.
    """
    if not 1 <= checkpoint <= len(timeline.sessions):
        raise ValueError(f"checkpoint {checkpoint} outside 1..{len(timeline.sessions)}")
    maker = _Maker(timeline, checkpoint, random.Random(f"probes:{timeline.seed}:{checkpoint}"))
    maker.current_and_abstain()
    maker.as_of()
    maker.history()
    maker.when()
    maker.preference()
    maker.multi()
    maker.multi_hop()
    return maker.probes
