"""JSONL files of messages and of facts: parse, validate every line, then ingest.

A file is read and validated completely before anything is written: one bad line raises an
:class:`~memlane.memory_graph.errors.InputError` whose ``where`` is ``path:LINE`` and nothing stored
changes. Blank lines are skipped. Each line is one JSON object of one of two shapes.

**Message** (stored as an episode; no extraction)::

    {"user_id": "u1", "content": "I moved to Berlin", "occurred_at": "2024-05-01T10:00:00Z",
     "session_id": "s1", "role": "user", "speaker": "Ana", "id": "m-17"}

Only ``content`` is required (and ``user_id`` unless ``--user`` is given). ``role`` is
``user`` (default), ``assistant`` or ``system``. Without ``id`` the episode id is a hash of
session, role, time and content, so ingesting the same file twice adds nothing; without
``occurred_at`` the time is the ingest time and the id hashes the line number instead.

**Fact** (bring-your-own facts; reconciled like extracted ones, no LLM)::

    {"user_id": "u1", "subject": "user", "predicate": "lives_in", "object": "Berlin",
     "object_kind": "place", "statement": "Ana lives in Berlin", "kind": "fact",
     "polarity": "positive", "confidence": 0.9,
     "valid_at": "2024-05-01", "invalid_at": null,
     "episode_ids": ["m-17"],
     "source": "m-18"  |  {"content": "...", "occurred_at": "...", "session_id": "..."}}

``predicate`` is required and must be registered (or a synonym). ``subject`` defaults to the
user. ``object_kind`` is ``value`` (a literal, the default) or an entity kind (``person``,
``place``, ``org``, ``pet``, ``thing``, ...), which links the object as a node. Without
``statement`` one is written from subject, predicate and object. ``episode_ids`` and
``source`` give provenance: ``source`` is an episode id or an inline message that is stored
as an episode. ``valid_at`` defaults to the source's time, else the ingest time.

The kind of each line is ``--kind`` when given, else its ``"type"`` (``message`` or
``fact``), else ``fact`` if it has a ``predicate`` and ``message`` if it has ``content``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, ValidationError

from memlane.memory_graph.drafts import SELF_NAMES, FactDraft
from memlane.memory_graph.errors import InputError
from memlane.memory_graph.jsonl import parse_json_line
from memlane.memory_graph.model import ID_PATTERN, Episode, episode_id_for, has_control_characters
from memlane.memory_graph.predicates import PredicateRegistry
from memlane.memory_graph.reconcile import WriteCounts, check_draft, check_user_id
from memlane.memory_graph.timeutil import parse_time, utcnow

if TYPE_CHECKING:
    from memlane.memory_graph.memory import Memory

__all__ = ["FileKind", "IngestReport", "ParsedFile", "ingest_file", "parse_file"]

FileKind = Literal["messages", "facts"]
LineKind = Literal["message", "fact"]

MESSAGE_FIELDS = frozenset(
    {"type", "user_id", "session_id", "role", "speaker", "content", "occurred_at", "id"}
)
FACT_FIELDS = frozenset(
    {
        "type",
        "user_id",
        "subject",
        "subject_kind",
        "predicate",
        "object",
        "object_kind",
        "statement",
        "kind",
        "polarity",
        "confidence",
        "valid_at",
        "invalid_at",
        "episode_ids",
        "source",
        "contradicts",
    }
)
SOURCE_FIELDS = frozenset({"id", "session_id", "role", "speaker", "content", "occurred_at"})
_ID = re.compile(ID_PATTERN)
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_NOTES = 50


@dataclass
class ParsedFile:
    """Every line of a file, validated: what ingesting it would write, per user."""

    path: str
    lines: int = 0
    messages: dict[str, list[Episode]] = field(default_factory=dict)
    sources: dict[str, list[Episode]] = field(default_factory=dict)  # inline fact sources
    drafts: dict[str, list[FactDraft]] = field(default_factory=dict)

    @property
    def users(self) -> list[str]:
        return sorted({*self.messages, *self.sources, *self.drafts})

    @property
    def kind(self) -> str:
        has_messages = any(self.messages.values())
        has_facts = any(self.drafts.values())
        if has_messages and has_facts:
            return "mixed"
        return "facts" if has_facts else "messages"

    @property
    def records(self) -> int:
        return sum(len(v) for v in self.messages.values()) + sum(
            len(v) for v in self.drafts.values()
        )


class IngestReport(WriteCounts):
    """What ingesting one file did."""

    path: str
    kind: str
    lines: int
    users: list[str]
    notes: list[str] = Field(default_factory=list)


def _fail(where: str, message: str, *, cls: type[InputError] = InputError) -> InputError:
    return cls(message, where=where)


def _line_kind(data: dict[str, Any], kind: FileKind | None, where: str) -> LineKind:
    declared = data.get("type")
    if declared is not None and declared not in ("message", "fact"):
        raise _fail(where, f"unknown record type {declared!r}; expected 'message' or 'fact'")
    if kind is not None:
        wanted: LineKind = "message" if kind == "messages" else "fact"
        if declared is not None and declared != wanted:
            raise _fail(where, f"a {declared} record in a file of {kind}")
        return wanted
    if declared is not None:
        return declared  # type: ignore[no-any-return]
    if "predicate" in data:
        return "fact"
    if "content" in data:
        return "message"
    raise _fail(
        where,
        "cannot tell a message from a fact: the line has neither 'content' nor 'predicate' "
        "(use --kind messages|facts)",
    )


def _check_strings(value: Any, where: str, path: str = "") -> None:
    if isinstance(value, str):
        if has_control_characters(value):
            raise _fail(where, f"field {path or 'value'!r} contains control characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(item, where, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_strings(item, where, f"{path}[{i}]")


def _time_field(data: dict[str, Any], name: str, where: str) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_time(value, field=name)
    except InputError as exc:
        raise _fail(where, f"invalid {name}: {exc.message}") from exc


def _str_field(data: dict[str, Any], name: str, where: str, *, required: bool = False) -> Any:
    value = data.get(name)
    if value is None:
        if required:
            raise _fail(where, f"missing field {name!r}")
        return None
    if not isinstance(value, str):
        raise _fail(where, f"field {name!r} must be a string, got {type(value).__name__}")
    return value


def _id_field(data: dict[str, Any], name: str, where: str) -> str | None:
    value = _str_field(data, name, where)
    if value is not None and not _ID.match(value):
        raise _fail(
            where,
            f"bad {name} {value!r}: 1-128 letters, digits or _.:@#/- "
            "(starting with a letter or digit)",
        )
    return value


def _pydantic_problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    msg = str(err.get("msg", "invalid value"))
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return f"invalid {loc}: {msg}" if loc else msg


def _user(data: dict[str, Any], default_user: str | None, where: str) -> str:
    value = data.get("user_id")
    if value is None:
        if default_user is None:
            raise _fail(where, "missing field 'user_id' (or pass --user)")
        return default_user
    if not isinstance(value, str) or not _ID.match(value):
        raise _fail(where, f"bad user_id {value!r}")
    if default_user is not None and value != default_user:
        raise _fail(where, f"line is for user {value!r} but --user {default_user!r} was given")
    return value


def _episode(
    data: dict[str, Any], user_id: str, where: str, line: int, now: datetime, what: str
) -> Episode:
    content = data.get("content")
    if content is None:
        raise _fail(where, f"missing field 'content' in {what}")
    if not isinstance(content, str):
        raise _fail(where, f"field 'content' must be a string, got {type(content).__name__}")
    session_id = _id_field(data, "session_id", where)
    role = data.get("role") or "user"
    occurred_at = _time_field(data, "occurred_at", where)
    ep_id = _id_field(data, "id", where)
    if ep_id is None:
        # Content-hash ids make re-ingest a no-op; a timeless message hashes its line instead.
        salt = content if occurred_at else f"{content}\x1fline {line}"
        ep_id = episode_id_for(session_id, str(role), occurred_at or _NO_TIME, salt)
    try:
        return Episode(
            id=ep_id,
            user_id=user_id,
            session_id=session_id,
            role=role,  # type: ignore[arg-type]  # validated by the model
            speaker=_str_field(data, "speaker", where),
            content=content,
            occurred_at=occurred_at or now,
            recorded_at=now,
        )
    except ValidationError as exc:
        raise _fail(where, _pydantic_problem(exc)) from exc


def _statement(subject: str, predicate: str, obj: str | None, polarity: str) -> str:
    who = "The user" if subject.strip().casefold() in SELF_NAMES else subject.strip()
    words = predicate.replace("_", " ")
    text = f"{who} {words} {obj.strip()}" if obj else f"{who} {words}"
    return f"Not true: {text}" if polarity == "negative" else text


class _Parser:
    def __init__(
        self,
        path: str,
        registry: PredicateRegistry,
        kind: FileKind | None,
        default_user: str | None,
        now: datetime,
    ) -> None:
        self.out = ParsedFile(path=path)
        self.registry = registry
        self.kind = kind
        self.default_user = default_user
        self.now = now
        self.seen: dict[tuple[str, str], tuple[str, int]] = {}  # (user, episode id) -> content

    def add_line(self, raw: bytes, line: int) -> None:
        where = f"{self.out.path}:{line}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(where, f"not UTF-8 text (byte {exc.start})") from exc
        if line == 1:
            text = text.removeprefix("\ufeff")
        if not text.strip():
            return
        data = parse_json_line(text, where=where)
        if not isinstance(data, dict):
            raise _fail(where, f"expected a JSON object, got {type(data).__name__}")
        _check_strings(data, where)
        self.out.lines = line
        if _line_kind(data, self.kind, where) == "message":
            self._message(data, where, line)
        else:
            self._fact(data, where, line)

    def _remember(self, ep: Episode, where: str) -> bool:
        """False if this exact episode was already read; error if the id is reused."""
        key = (ep.user_id, ep.id)
        prior = self.seen.get(key)
        if prior is None:
            self.seen[key] = (ep.content, int(where.rsplit(":", 1)[1]))
            return True
        if prior[0] != ep.content:
            raise _fail(where, f"episode id {ep.id!r} already used on line {prior[1]}")
        return False

    def _message(self, data: dict[str, Any], where: str, line: int) -> None:
        unknown = sorted(set(data) - MESSAGE_FIELDS)
        if unknown:
            raise _fail(where, f"unknown field {unknown[0]!r} in a message")
        user_id = _user(data, self.default_user, where)
        ep = _episode(data, user_id, where, line, self.now, "a message")
        if self._remember(ep, where):
            self.out.messages.setdefault(user_id, []).append(ep)

    def _fact(self, data: dict[str, Any], where: str, line: int) -> None:
        unknown = sorted(set(data) - FACT_FIELDS)
        if unknown:
            raise _fail(where, f"unknown field {unknown[0]!r} in a fact")
        user_id = _user(data, self.default_user, where)
        predicate = _str_field(data, "predicate", where, required=True)
        subject = _str_field(data, "subject", where) or "user"
        obj = data.get("object")
        if obj is not None and not isinstance(obj, str):
            obj = str(obj) if isinstance(obj, int | float) and not isinstance(obj, bool) else obj
            if not isinstance(obj, str):
                raise _fail(where, f"field 'object' must be a string, got {type(obj).__name__}")
        episode_ids = data.get("episode_ids") or []
        if not isinstance(episode_ids, list):
            raise _fail(where, "field 'episode_ids' must be a list of episode ids")
        for eid in episode_ids:
            if not isinstance(eid, str) or not _ID.match(eid):
                raise _fail(where, f"bad episode id {eid!r} in episode_ids")
        source = data.get("source")
        if isinstance(source, str):
            if not _ID.match(source):
                raise _fail(where, f"bad episode id {source!r} in source")
            episode_ids = [*episode_ids, source]
        elif isinstance(source, dict):
            unknown = sorted(set(source) - SOURCE_FIELDS)
            if unknown:
                raise _fail(where, f"unknown field {unknown[0]!r} in source")
            ep = _episode(source, user_id, where, line, self.now, "source")
            if self._remember(ep, where):
                self.out.sources.setdefault(user_id, []).append(ep)
            episode_ids = [*episode_ids, ep.id]
        elif source is not None:
            raise _fail(where, "field 'source' must be an episode id or a message object")
        try:
            # Times are parsed here so a bad one names its field.
            valid_at = _time_field(data, "valid_at", where)
            invalid_at = _time_field(data, "invalid_at", where)
            polarity = data.get("polarity") or "positive"
            fields = {
                k: v
                for k, v in data.items()
                if k in {"subject_kind", "object_kind", "kind", "confidence", "contradicts"}
                and v is not None
            }
            draft = FactDraft(
                subject=subject,
                predicate=predicate,
                object=obj,
                statement=_str_field(data, "statement", where)
                or _statement(subject, predicate, obj, str(polarity)),
                polarity=polarity,  # type: ignore[arg-type]  # validated by the model
                valid_at=valid_at,
                invalid_at=invalid_at,
                episode_ids=list(dict.fromkeys(episode_ids)),
                **fields,
            )
        except ValidationError as exc:
            raise _fail(where, _pydantic_problem(exc)) from exc
        check_draft(draft, self.registry, where=where)
        self.out.drafts.setdefault(user_id, []).append(draft)


def parse_file(
    path: str | Path,
    registry: PredicateRegistry,
    *,
    kind: FileKind | None = None,
    user_id: str | None = None,
    now: datetime | None = None,
) -> ParsedFile:
    """Read and validate every line of a JSONL file of messages and/or facts.

    Args:
        path: the file.
        registry: predicates facts are checked against.
        kind: ``"messages"`` or ``"facts"`` to force every line's kind; None to detect.
        user_id: the user of lines without ``user_id`` (lines naming another user fail).
        now: ingest time (default: the current time).

    Returns:
        The validated contents, grouped by user.

    Raises:
        InputError: the first bad line, ``where="path:LINE"``; ``UnknownPredicateError``
            for an unregistered predicate. Also a missing, unreadable or empty file.
    """
    name = str(path)
    if kind is not None and kind not in ("messages", "facts"):
        raise InputError(f"unknown kind {kind!r}; expected messages or facts", where="kind")
    if user_id is not None:
        check_user_id(user_id, where="user")
    parser = _Parser(name, registry, kind, user_id, now or utcnow())
    try:
        with open(path, "rb") as fh:
            for line, raw in enumerate(fh, start=1):
                parser.add_line(raw, line)
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", where=name) from exc
    if parser.out.records == 0:
        raise InputError("the file holds no messages or facts", where=name)
    return parser.out


async def ingest_file(
    memory: Memory,
    path: str | Path,
    *,
    kind: FileKind | None = None,
    user_id: str | None = None,
    batch_size: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Validate a whole file, then store its messages and facts.

    Messages are stored before facts, so facts can cite messages of the same file. Writes go
    in batches of ``batch_size`` records, each atomic; drafts of one batch see each other and
    later batches see earlier ones.

    Args:
        memory: where to write.
        path: the JSONL file.
        kind: force the kind of every line (see :func:`parse_file`).
        user_id: the user of lines without ``user_id``.
        batch_size: records per write.
        on_progress: called with the number of records just written (for progress bars).

    Raises:
        InputError: any bad line (nothing is written).
    """
    parsed = parse_file(path, memory.registry, kind=kind, user_id=user_id, now=memory.clock())
    report = IngestReport(
        path=parsed.path, kind=parsed.kind, lines=parsed.lines, users=parsed.users
    )
    for uid in parsed.users:
        for episodes, counted in (
            (parsed.messages.get(uid, []), True),
            (parsed.sources.get(uid, []), False),  # progress counts the facts instead
        ):
            for start in range(0, len(episodes), batch_size):
                chunk = episodes[start : start + batch_size]
                report.add(await memory.add_episodes(chunk))
                if on_progress and counted:
                    on_progress(len(chunk))
        drafts = parsed.drafts.get(uid, [])
        for start in range(0, len(drafts), batch_size):
            chunk_drafts = drafts[start : start + batch_size]
            done = await memory.commit(uid, chunk_drafts)
            report.add(done)
            room = _MAX_NOTES - len(report.notes)
            if room > 0:
                report.notes.extend(done.notes[:room])
            if on_progress:
                on_progress(len(chunk_drafts))
    return report
