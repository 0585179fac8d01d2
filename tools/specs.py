"""The memory tools an LLM may call: one argument model and one function each.

The user is never an argument: it is bound when tools are built (``memory_tools``, the MCP
server), so a model can only read and change the memory of the user it is serving. A tool's
docstring is its description and its argument model is its schema; both are what the model
sees. Forgetting *everything* is deliberately not a tool.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from memlane.memory_graph.ids import ID_PATTERN
from memlane.memory_graph.limits import MAX_K, MAX_NOTE_CHARS, MAX_QUERY_CHARS, MAX_VALUE_CHARS
from memlane.memory_graph.model import TEXT_PATTERN
from memlane.tools import commands, queries
from memlane.tools.models import (
    Corrected,
    Diff,
    Explanation,
    FactList,
    Forgotten,
    History,
    Profile,
    Remembered,
    SearchResult,
)

if TYPE_CHECKING:
    from memlane.memory_graph.memory import Memory

__all__ = ["TOOL_SPECS", "ToolSpec"]

_AS_OF = "a date or time (ISO 8601, e.g. 2024-05-01) in the user's world; empty means now"


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileArgs(_Args):
    as_of: str | None = Field(default=None, max_length=40, description=_AS_OF)


class SearchArgs(_Args):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="what to look for")
    as_of: str | None = Field(default=None, max_length=40, description=_AS_OF)
    k: int = Field(default=10, ge=1, le=MAX_K, description="how many facts and messages")


class FactsArgs(_Args):
    subject: str | None = Field(
        default=None, max_length=300, description="an entity name; 'user' means the user"
    )
    predicate: str | None = Field(
        default=None, max_length=64, description="a predicate such as lives_in or likes"
    )
    as_of: str | None = Field(default=None, max_length=40, description=_AS_OF)


class HistoryArgs(_Args):
    subject: str = Field(
        default="user", min_length=1, max_length=300, description="an entity name; 'user'"
    )
    predicate: str = Field(
        min_length=1, max_length=64, description="a predicate such as lives_in or works_at"
    )


class FactIdArgs(_Args):
    fact_id: str = Field(pattern=ID_PATTERN, description="a fact id as shown by the other tools")


class DiffArgs(_Args):
    since: str = Field(min_length=1, max_length=40, description="the earlier date or time")
    until: str | None = Field(
        default=None, max_length=40, description="the later date or time; empty means now"
    )


# Text fields carry the model's text rule (no control characters) as a schema pattern, so
# the HTTP API, which takes these same models as request bodies, documents it too.


class RememberArgs(_Args):
    statement: str = Field(
        min_length=1,
        max_length=MAX_NOTE_CHARS,
        pattern=TEXT_PATTERN,
        description="what to remember, one sentence",
    )


class ValueArgs(_Args):
    value: str = Field(
        min_length=1,
        max_length=MAX_VALUE_CHARS,
        pattern=TEXT_PATTERN,
        description="the right value",
    )


class CorrectArgs(ValueArgs):
    fact_id: str = Field(pattern=ID_PATTERN, description="the id of the fact that is wrong")


async def memory_profile(memory: Memory, user_id: str, args: ProfileArgs) -> Profile:
    """What you know about the user now (or as of a date), grouped by kind: facts,
    preferences, traits and events, plus what no longer holds (things they stopped doing or
    having). Use it to get an overview before answering."""
    return await queries.profile(memory, user_id, args.as_of)


async def memory_search(memory: Memory, user_id: str, args: SearchArgs) -> SearchResult:
    """Search the user's memory for facts and past messages relevant to a question. Give
    as_of to ask what was true at a past date."""
    return await queries.search(memory, user_id, args.query, args.as_of, args.k)


async def memory_facts(memory: Memory, user_id: str, args: FactsArgs) -> FactList:
    """List facts about one subject and/or predicate, now or as of a date."""
    return await queries.facts(memory, user_id, args.subject, args.predicate, args.as_of)


async def memory_history(memory: Memory, user_id: str, args: HistoryArgs) -> History:
    """Every value a subject's predicate has had (e.g. where the user has lived), oldest first,
    each with when it started and ended."""
    return await queries.history(memory, user_id, args.subject, args.predicate)


async def memory_why(memory: Memory, user_id: str, args: FactIdArgs) -> Explanation:
    """Why you believe a fact: the messages it came from, when it was learned, and what it
    replaced or was replaced by."""
    return await queries.why(memory, user_id, args.fact_id)


async def memory_diff(memory: Memory, user_id: str, args: DiffArgs) -> Diff:
    """What became true and what stopped being true for the user between two dates."""
    return await queries.diff(memory, user_id, args.since, args.until)


async def memory_remember(memory: Memory, user_id: str, args: RememberArgs) -> Remembered:
    """Remember something the user explicitly asks you to remember."""
    return await commands.remember(memory, user_id, args.statement)


async def memory_correct(memory: Memory, user_id: str, args: CorrectArgs) -> Corrected:
    """Correct a fact the user says is wrong: the old fact is retracted and replaced by one
    with the right value. Find the fact id with memory_facts or memory_search first."""
    return await commands.correct(memory, user_id, args.fact_id, args.value)


async def memory_forget_fact(memory: Memory, user_id: str, args: FactIdArgs) -> Forgotten:
    """Delete one fact the user asks you to forget. Find its id with memory_facts first."""
    return await commands.forget(memory, user_id, args.fact_id)


Runner = Callable[[Any, str, Any], Awaitable[BaseModel]]


@dataclass(frozen=True)
class ToolSpec:
    """One LLM-callable memory tool."""

    name: str
    description: str
    args: type[BaseModel]
    result: type[BaseModel]
    run: Runner
    read_only: bool


def _spec(fn: Runner, args: type[BaseModel], result: type[BaseModel], read_only: bool) -> ToolSpec:
    doc = " ".join((inspect.getdoc(fn) or "").split())
    return ToolSpec(fn.__name__, doc, args, result, fn, read_only)  # type: ignore[attr-defined]


TOOL_SPECS: tuple[ToolSpec, ...] = (
    _spec(memory_profile, ProfileArgs, Profile, True),
    _spec(memory_search, SearchArgs, SearchResult, True),
    _spec(memory_facts, FactsArgs, FactList, True),
    _spec(memory_history, HistoryArgs, History, True),
    _spec(memory_why, FactIdArgs, Explanation, True),
    _spec(memory_diff, DiffArgs, Diff, True),
    _spec(memory_remember, RememberArgs, Remembered, False),
    _spec(memory_correct, CorrectArgs, Corrected, False),
    _spec(memory_forget_fact, FactIdArgs, Forgotten, False),
)
