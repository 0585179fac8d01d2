"""Helpers the tool modules share: argument checks and name lookup."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.model import Fact, text_problem
from memlane.memory_graph.timeutil import parse_time

if TYPE_CHECKING:
    from memlane.memory_graph.memory import Memory

TimeArg = str | datetime | None


def opt_time(value: TimeArg, what: str) -> datetime | None:
    """``None`` or an aware UTC datetime parsed from ``value``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return parse_time(value, field=what)


def check_text(value: str, what: str, limit: int) -> str:
    """Non-empty text of at most ``limit`` characters without control characters, stripped."""
    text = (value or "").strip()
    problem = text_problem(text, limit)
    if problem:
        raise InputError(problem, where=what)
    return text


async def entity_names(memory: Memory, user_id: str, facts: Iterable[Fact]) -> dict[str, str]:
    """Names of the entities ``facts`` mention, by id."""
    ids = sorted({i for f in facts for i in (f.subject_id, f.object_id) if i})
    if not ids:
        return {}
    return {e.id: e.name for e in await memory.store.get_entities(user_id, ids)}
