"""Ids: the one rule for user, session and record ids, as a pattern, pydantic types and checks.

Every boundary uses these: the Python API (:class:`~memlane.memory_graph.memory.Memory`,
``MemoryAgent``), the tools layer, the CLI's arguments, the HTTP paths and bodies and the MCP
server. An id is 1-128 characters of letters, digits and ``_.:@#/-``, starting with a letter
or digit, so it is safe as a key, a query parameter and a file-name-free label (no ``..``
segment can start one, no spaces, quotes or control characters).

Ids that travel in a URL path (:data:`PATH_ID_PATTERN`) also exclude ``/`` and ``#``, which a
path or fragment would split.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

from memlane.memory_graph.errors import InputError

__all__ = [
    "ID_PATTERN",
    "PATH_ID_PATTERN",
    "THREAD_SEPARATOR",
    "RecordId",
    "UserId",
    "check_id",
    "check_user_id",
    "is_id",
    "thread_owner",
]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@#/\-]{0,127}$"
"""Any id: user, session, episode, entity, fact."""
PATH_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@\-]{0,127}$"
"""An id in a URL path segment: :data:`ID_PATTERN` without ``/`` and ``#``."""
THREAD_SEPARATOR = "|"
"""Joins a user id and a session id into a thread id; in no id's alphabet."""

_ID = re.compile(ID_PATTERN)
_RULE = "1-128 letters, digits or _.:@#/- (starting with a letter or digit)"

UserId = Annotated[str, Field(pattern=ID_PATTERN, description="a user id")]
RecordId = Annotated[str, Field(pattern=ID_PATTERN, description="an id")]


def is_id(value: object) -> bool:
    """True if ``value`` is a string matching :data:`ID_PATTERN`."""
    return isinstance(value, str) and _ID.match(value) is not None


def check_id(value: object, where: str) -> str:
    """``value`` if it is a valid id.

    Raises:
        InputError: naming ``where`` and the rule.
    """
    if not is_id(value):
        raise InputError(f"not a valid id: {value!r}; {_RULE}", where=where)
    assert isinstance(value, str)
    return value


def check_user_id(user_id: object, *, where: str = "user_id") -> str:
    """``user_id`` if it is a valid id.

    Raises:
        InputError: not a string matching :data:`ID_PATTERN`.
    """
    if not is_id(user_id):
        raise InputError(f"invalid user id {user_id!r}: {_RULE}", where=where)
    assert isinstance(user_id, str)
    return user_id


def thread_owner(thread: str) -> str | None:
    """The user a thread id ``user|session`` belongs to (None for a thread id of another
    shape: a graph of the caller's own, which no ``forget`` of a user touches)."""
    user, sep, _ = thread.partition(THREAD_SEPARATOR)
    return user if sep and user else None
