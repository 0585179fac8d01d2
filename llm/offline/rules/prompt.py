"""The extraction prompt, read back by the offline model.

The offline model reads exactly what a real model reads (``memlane.prompts.extract_memory``): this
module parses the rendered prompt back into its sections, so the patterns see the turn
time, the user's name, the predicate list, the candidate existing facts and the messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from memlane.memory_graph.model import normalise_name

__all__ = ["RELATIONS", "Candidate", "Message", "ParsedPrompt", "parse_extraction_prompt"]

_LINE = re.compile(r"^(?:\[(?P<at>[^\]]+)\]\s+)?(?P<role>user|assistant|system):\s?(?P<text>.*)$")
_SECTIONS = ("TURN TIME:", "USER:", "EXISTING FACTS", "RECENT MESSAGES:", "NEW MESSAGES:")
RELATIONS = ("partner", "has_child", "has_sibling", "has_parent", "friend_of", "related_to")
"""Predicates whose object is a person in the user's life."""


@dataclass(frozen=True)
class Candidate:
    """An existing fact as the prompt shows it."""

    short_id: str
    subject: str
    predicate: str
    object: str
    polarity: str
    valid_at: datetime | None
    current: bool


@dataclass
class Message:
    """One message of the prompt (new or recent)."""

    role: str
    text: str
    at: datetime


@dataclass
class ParsedPrompt:
    """The sections of an extraction prompt."""

    turn_time: datetime
    user_name: str | None
    functional: set[str]
    candidates: list[Candidate]
    new: list[Message]
    recent: list[Message]

    def objects_of(self, *predicates: str, current: bool = True) -> list[Candidate]:
        """Candidates about the user with one of ``predicates`` (current ones by default)."""
        return [
            c
            for c in self.candidates
            if c.predicate in predicates
            and normalise_name(c.subject) in {"user", "the user", "i", "me", "self"}
            and c.polarity == "positive"
            and (c.current or not current)
        ]

    def known_as(self, name: str) -> set[str]:
        """The predicates under which ``name`` appears as a candidate's object."""
        key = normalise_name(name)
        return {c.predicate for c in self.candidates if normalise_name(c.object) == key}

    def people(self) -> set[str]:
        """Normalised names of the people the candidates or recent messages mention."""
        names = {normalise_name(c.object) for c in self.candidates if c.predicate in RELATIONS}
        names |= {
            normalise_name(c.subject)
            for c in self.candidates
            if normalise_name(c.subject) not in {"user", "the user", "self"}
        }
        for message in self.recent:
            for m in re.finditer(r"\bmy [a-z ]{3,20}?,? ([A-Z][a-z]+)\b", message.text):
                names.add(normalise_name(m.group(1)))
        return names


def _time(raw: str | None, default: datetime) -> datetime:
    if not raw or raw.strip() in {"?", "None"}:
        return default
    try:
        dt = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return default
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _section(text: str, head: str) -> list[str]:
    start = text.find(head)
    if start < 0:
        return []
    body = text[start:].split("\n", 1)
    rest = body[1] if len(body) > 1 else ""
    if head.endswith(":") and head in ("TURN TIME:", "USER:"):
        return [body[0][len(head) :].strip()]
    ends = [rest.find(h) for h in _SECTIONS if rest.find(h) >= 0]
    return rest[: min(ends)].splitlines() if ends else rest.splitlines()


def _messages(lines: list[str], default: datetime) -> list[Message]:
    out: list[Message] = []
    for line in lines:
        m = _LINE.match(line)
        if m:
            out.append(Message(m["role"], m["text"], _time(m["at"], default)))
        elif out and line.strip():
            out[-1].text += "\n" + line
    return out


def parse_extraction_prompt(system: str, user: str) -> ParsedPrompt:
    """Read the extraction prompt's sections back (see ``memlane.prompts.extract_memory``)."""
    now = _time((_section(user, "TURN TIME:") or [""])[0], datetime.now(UTC))
    name = (_section(user, "USER:") or [""])[0]
    functional = set(re.findall(r"^([a-z][a-z0-9_]*)\*:", system, re.M))
    candidates = []
    for line in _section(user, "EXISTING FACTS"):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 5 or not re.match(r"^F\d+$", parts[0]):
            continue
        short_id, subject, predicate, obj, window = parts
        polarity = "negative" if predicate.startswith("NOT ") else "positive"
        start, _, end = window.partition("..")
        candidates.append(
            Candidate(
                short_id,
                subject,
                predicate.removeprefix("NOT "),
                obj,
                polarity,
                None if start == "?" else _time(start, now),
                end == "now",
            )
        )
    return ParsedPrompt(
        turn_time=now,
        user_name=None if not name or name.startswith("(") else name,
        functional=functional,
        candidates=candidates,
        new=_messages(_section(user, "NEW MESSAGES:"), now),
        recent=_messages(_section(user, "RECENT MESSAGES:"), now),
    )
