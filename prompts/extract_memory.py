"""Extraction: one call per user turn (or batch of turns) turns messages into fact drafts.

The model sees the new message(s), a few recent ones for context, the turn time (to resolve
"last month"), who the user is, the predicate list, and the candidate existing facts under
short ids (``F1``..``Fn``). It answers with :class:`ExtractionOutput`; ``restates`` and
``contradicts`` name candidates by those short ids, which the caller maps back to fact ids.

Validation checks the answer against the prompt it answers: pass
``{"fact_ids": ..., "registry": ...}`` as pydantic validation context (see
:func:`validation_context`) and ids the prompt did not show, or unknown predicates, are
validation errors the gateway's repair retry can show the model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from memlane.memory_graph.drafts import ObjectKind
from memlane.memory_graph.errors import InputError
from memlane.memory_graph.model import EntityKind, FactKind, Polarity
from memlane.memory_graph.predicates import PredicateRegistry
from memlane.memory_graph.timeutil import parse_time, to_iso
from memlane.prompts._template import Template

__all__ = [
    "TASK",
    "CandidateFact",
    "ExtractedEntity",
    "ExtractedFact",
    "ExtractionInput",
    "ExtractionOutput",
    "PredicateLine",
    "Turn",
    "answer_budget",
    "build_messages",
    "compact_schema",
    "decoding_schema",
    "validation_context",
]

TASK = "extract_memory"
RECENT_CHARS = 300
"""Recent (context) messages are cut to this many characters; new ones never are."""
CANDIDATE_CHARS = 80
"""An existing fact's object (or statement) is cut to this many characters."""


# -- input -------------------------------------------------------------------------------------
class Turn(BaseModel):
    """One chat message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["user", "assistant", "system"] = "user"
    content: str = Field(min_length=1)
    at: datetime | None = None


class CandidateFact(BaseModel):
    """An existing fact shown to the model under a short id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    short_id: str = Field(pattern=r"^F[1-9][0-9]{0,3}$")
    subject: str
    predicate: str
    object: str | None = None
    statement: str
    polarity: Polarity = "positive"
    valid_at: datetime | None = None
    invalid_at: datetime | None = None


class PredicateLine(BaseModel):
    """A predicate the model may use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    functional: bool
    description: str = ""


class ExtractionInput(BaseModel):
    """Everything the extraction prompt needs; a missing piece fails here, not at run time."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_name: str | None = None
    turn_time: datetime
    new_turns: list[Turn] = Field(min_length=1)
    recent_turns: list[Turn] = Field(default_factory=list)
    candidates: list[CandidateFact] = Field(default_factory=list, max_length=100)
    predicates: list[PredicateLine] = Field(min_length=1)

    @classmethod
    def predicate_lines(cls, registry: PredicateRegistry) -> list[PredicateLine]:
        """The registry's predicates as prompt lines."""
        return [
            PredicateLine(name=s.name, functional=s.functional, description=s.description)
            for s in registry.describe()
        ]


# -- output ------------------------------------------------------------------------------------
class ExtractedEntity(BaseModel):
    """A person, place, org, pet or thing named in the messages."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300, description="as written")
    kind: EntityKind = "other"


# Field names models use for ours: read as ours (see ExtractedFact._tolerate).
_FIELD_ALIASES = {"valid_from": "valid_at", "valid_until": "invalid_at", "valid_to": "invalid_at"}


class ExtractedFact(BaseModel):
    """One durable fact the new messages state or clearly imply."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _tolerate(cls, data: Any) -> Any:
        """THE place where harmless differences of (small) models are accepted, before
        validation; everything else stays a validation error for the repair retry:

        * ``valid_from`` for ``valid_at``, ``valid_until`` / ``valid_to`` for ``invalid_at``
          (when ours is not also given);
        * a missing or empty ``statement``, rendered from subject, predicate and object
          ("user lives in Lisbon") when all three are there;
        * a number or boolean ``object`` (``"age": 34``), kept as its text.
        """
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for theirs, ours in _FIELD_ALIASES.items():
            if theirs in out and ours not in out:
                out[ours] = out.pop(theirs)
        obj = out.get("object")
        if isinstance(obj, int | float | bool):
            out["object"] = str(obj).lower() if isinstance(obj, bool) else str(obj)
        statement = out.get("statement")
        predicate, obj = out.get("predicate"), out.get("object")
        missing = statement is None or (isinstance(statement, str) and not statement.strip())
        # Only a whole triple can be read as a sentence; anything less stays an error.
        if missing and isinstance(predicate, str) and isinstance(obj, str) and obj.strip():
            subject = out.get("subject") if isinstance(out.get("subject"), str) else "user"
            out["statement"] = f"{subject or 'user'} {predicate.replace('_', ' ')} {obj.strip()}"
        return out

    subject: str = Field(
        default="user",
        min_length=1,
        max_length=300,
        description='"user", or the name of who/what it is about',
    )
    predicate: str = Field(min_length=1, max_length=64, description="one of PREDICATES")
    object: str | None = Field(default=None, max_length=1000, description="value or entity name")
    object_kind: ObjectKind = Field(
        default="value", description='entity kind, or "value" for a literal'
    )
    statement: str = Field(min_length=1, max_length=2000, description="one short sentence")
    kind: FactKind = "fact"
    polarity: Polarity = Field(default="positive", description='"negative" if denied or stopped')
    valid_at: str | None = Field(default=None, description="ISO date it became true")
    invalid_at: str | None = Field(default=None, description="ISO date it stopped being true")
    confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    restates: list[str] = Field(default_factory=list, description="EXISTING FACTS ids it repeats")
    contradicts: list[str] = Field(
        default_factory=list, description="EXISTING FACTS ids it makes untrue"
    )
    corrects: list[str] = Field(
        default_factory=list,
        description="EXISTING FACTS ids that were never true: the user corrects a mistake "
        '("I meant Leipzig, not Dresden"), not a change in their life',
    )

    @field_validator("valid_at", "invalid_at")
    @classmethod
    def _iso(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip() or value.strip().lower() in {"null", "none"}:
            return None
        try:
            return to_iso(parse_time(value, field=info.field_name or "time"))
        except InputError as exc:
            raise ValueError(exc.message) from exc

    @field_validator("predicate")
    @classmethod
    def _predicate(cls, value: str, info: ValidationInfo) -> str:
        registry = (info.context or {}).get("registry")
        if registry is None:
            return value
        try:
            return str(registry.canonical(value))
        except InputError as exc:
            raise ValueError(
                f"unknown predicate {value!r}; use one of PREDICATES (or 'note')"
            ) from exc

    @field_validator("restates", "contradicts", "corrects")
    @classmethod
    def _known_ids(cls, value: list[str], info: ValidationInfo) -> list[str]:
        known = (info.context or {}).get("fact_ids")
        if known is None:
            return value
        unknown = [v for v in value if v not in known]
        if unknown:
            shown = ", ".join(sorted(known)) or "none"
            raise ValueError(f"ids {unknown} are not EXISTING FACTS (shown: {shown})")
        return value

    @model_validator(mode="after")
    def _window(self) -> ExtractedFact:
        if self.valid_at and self.invalid_at and self.invalid_at < self.valid_at:
            raise ValueError(f"invalid_at {self.invalid_at} is before valid_at {self.valid_at}")
        return self


class ExtractionOutput(BaseModel):
    """What the new messages say about the user's life (empty lists if nothing)."""

    model_config = ConfigDict(extra="forbid")

    entities: list[ExtractedEntity] = Field(default_factory=list)
    facts: list[ExtractedFact] = Field(default_factory=list)


ANSWER_BASE_TOKENS = 200
ANSWER_TOKENS_PER_TURN = 350
ANSWER_MAX_TOKENS = 4000


def answer_budget(data: ExtractionInput) -> int:
    """``max_tokens`` for the extraction answer: room for a few facts per new user message.

    A fact is ~60-120 tokens of JSON; a message rarely states more than three. The bound
    stops a runaway answer (a small model that repeats itself) from holding a single-slot
    server for minutes.
    """
    users = sum(1 for t in data.new_turns if t.role == "user") or 1
    return min(ANSWER_BASE_TOKENS + ANSWER_TOKENS_PER_TURN * users, ANSWER_MAX_TOKENS)


def decoding_schema(base: dict[str, Any], data: ExtractionInput) -> dict[str, Any]:
    """``base`` (the gateway's decoding schema of :class:`ExtractionOutput`) with the choices
    the prompt offers as enums: a predicate is one of PREDICATES, ``restates`` and
    ``contradicts`` name EXISTING FACTS ids. Constrained decoding then cannot invent either
    (a small model otherwise writes ``"predicate": "last_month"``)."""
    schema = json.loads(json.dumps(base))
    fact = schema["$defs"]["ExtractedFact"]["properties"]
    fact["predicate"] = {**fact["predicate"], "enum": [p.name for p in data.predicates]}
    fact["predicate"].pop("type", None)
    ids = [c.short_id for c in data.candidates]
    for name in ("restates", "contradicts"):
        if ids:
            fact[name]["items"] = {"enum": ids}
        else:
            fact[name]["maxItems"] = 0
    return schema  # type: ignore[no-any-return]


def validation_context(
    data: ExtractionInput, registry: PredicateRegistry | None = None
) -> dict[str, Any]:
    """Validation context for :class:`ExtractionOutput` answering ``data``."""
    return {"fact_ids": {c.short_id for c in data.candidates}, "registry": registry}


# -- messages ----------------------------------------------------------------------------------
def _type_of(node: dict[str, Any]) -> str:
    if "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[-1]
    if "enum" in node:
        return "|".join(str(v) for v in node["enum"])
    if "const" in node:
        return str(node["const"])
    if "anyOf" in node:
        return "|".join(_type_of(n) for n in node["anyOf"])
    if node.get("type") == "array":
        return f"[{_type_of(node.get('items', {}))}]"
    return str(node.get("type", "any"))


def _describe_object(name: str, node: dict[str, Any]) -> list[str]:
    doc = " ".join(str(node.get("description", "")).split())
    lines = [f"{name}: {doc}".rstrip(": ")]
    required = set(node.get("required", ()))
    for prop, spec in node.get("properties", {}).items():
        line = f"  {prop}: {_type_of(spec)}"
        if prop not in required and "default" in spec:
            line += f" = {json.dumps(spec['default'])}"
        if spec.get("description"):
            line += f"; {spec['description']}"
        lines.append(line)
    return lines


def compact_schema(model: type[BaseModel]) -> str:
    """A terse, readable rendering of ``model.model_json_schema()`` for the prompt.

    Types, enums, defaults and descriptions all come from the schema; ``A|B`` is a choice,
    ``[T]`` a list, ``= v`` a default (the field may be left out).
    """
    schema = model.model_json_schema()
    lines = _describe_object(model.__name__, schema)
    for name, node in schema.get("$defs", {}).items():
        lines.extend(_describe_object(name, node))
    return "\n".join(lines)


SYSTEM = Template(
    "extract_memory.system",
    """TASK: $task
You keep a long-term memory about a user. From NEW MESSAGES, extract durable facts about \
the user and the people, pets, places and things in their life. Skip small talk, questions \
and what the assistant said.
Rules:
- subject "user" is the user; predicate is a name from PREDICATES (* = one value at a time).
- valid_at: ISO date the fact became true. Resolve relative times ("last month", "two years \
ago", "next Friday") against TURN TIME. null if not said.
- A past story ("back when I lived in X") is a fact with invalid_at set, not a new current one.
- polarity "negative" for something denied or stopped ("I don't like X anymore").
- A correction ("sorry, I meant X, not Y", "it's spelled X") is the right fact with \
corrects naming the wrong one: the wrong one was never true.
- restates / contradicts / corrects: only ids shown in EXISTING FACTS (same subject).
PREDICATES:
$predicates
Answer with one JSON object, an $answer:
$schema""",
)

USER = Template(
    "extract_memory.user",
    """TURN TIME: $turn_time
USER: $user_name
EXISTING FACTS (id | subject | predicate | object | valid from..to):
$candidates
RECENT MESSAGES:
$recent
NEW MESSAGES:
$new""",
)


def _day(dt: datetime | None) -> str:
    return (to_iso(dt) or "")[:10] or "?"


def _turn_line(turn: Turn, limit: int | None = None) -> str:
    stamp = f"[{to_iso(turn.at)}] " if turn.at else ""
    text = (
        turn.content
        if limit is None or len(turn.content) <= limit
        else turn.content[:limit] + "..."
    )
    return f"{stamp}{turn.role}: {text}"


def _candidate_line(c: CandidateFact) -> str:
    window = f"{_day(c.valid_at)}..{_day(c.invalid_at) if c.invalid_at else 'now'}"
    # The statement repeats the triple; it is shown only when there is no object to read.
    obj = c.object if c.object is not None else c.statement
    if len(obj) > CANDIDATE_CHARS:  # bounded, so the prompt's size does not depend on data
        obj = obj[:CANDIDATE_CHARS] + "..."
    predicate = c.predicate if c.polarity == "positive" else f"NOT {c.predicate}"
    return f"{c.short_id} | {c.subject} | {predicate} | {obj} | {window}"


def render_predicates(lines: Sequence[PredicateLine]) -> str:
    """One line per predicate: ``name*: description`` (``*`` marks functional)."""
    return "\n".join(
        f"{p.name}{'*' if p.functional else ''}: {p.description}".rstrip(": ") for p in lines
    )


def build_messages(data: ExtractionInput) -> list[dict[str, str]]:
    """The chat messages for one extraction call."""
    system = SYSTEM.render(
        {
            "task": TASK,
            "predicates": render_predicates(data.predicates),
            "schema": compact_schema(ExtractionOutput),
            "answer": ExtractionOutput.__name__,
        }
    )
    user = USER.render(
        {
            "turn_time": to_iso(data.turn_time),
            "user_name": data.user_name or "(name unknown)",
            "candidates": "\n".join(_candidate_line(c) for c in data.candidates) or "(none)",
            "recent": "\n".join(_turn_line(t, RECENT_CHARS) for t in data.recent_turns) or "(none)",
            "new": "\n".join(_turn_line(t) for t in data.new_turns),
        }
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
