"""Helpers the tool modules share: argument checks and name lookup."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.model import Fact, text_problem
from memlane.memory_graph.naming import Names, read_names
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


async def entity_names(memory: Memory, user_id: str, facts: Iterable[Fact]) -> Names:
    """The current names to read ``facts`` with, now (the memory's clock): the entities they
    mention and the user's own name (:mod:`memlane.memory_graph.naming`)."""
    return await read_names(memory.store, user_id, facts, memory.clock())
