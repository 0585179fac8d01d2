"""One exception hierarchy for memlane, each class with a stable code.

Callers (CLI, HTTP API, MCP) map ``code`` to exit statuses and response codes;
the codes never change meaning once published.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "ExtractionError",
    "InputError",
    "LLMError",
    "MemlaneError",
    "NotFoundError",
    "StoreError",
    "UnknownPredicateError",
]


class MemlaneError(Exception):
    """Base class of every error memlane raises on purpose."""

    code = "memlane_error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.where:
            out["where"] = self.where
        return out


class InputError(MemlaneError):
    """Input that cannot be accepted: empty, oversized, malformed, invalid ids or dates.

    ``where`` names the place (``file.jsonl:12``, ``query``, ``valid_at``).
    """

    code = "invalid_input"


class UnknownPredicateError(InputError):
    """A predicate that is not registered (and not a synonym of one) where one is required."""

    code = "unknown_predicate"


class NotFoundError(MemlaneError):
    """A user, fact, entity or episode that does not exist (for this user)."""

    code = "not_found"


class ConflictError(MemlaneError):
    """A write that would contradict what is stored in a way the rules do not resolve."""

    code = "conflict"


class StoreError(MemlaneError):
    """The store failed: connection, schema, or a write that could not be applied."""

    code = "store_error"


class LLMError(MemlaneError):
    """The language model call failed after the allowed retries."""

    code = "llm_error"


class ExtractionError(LLMError):
    """The model's extraction output could not be validated; nothing was written."""

    code = "extraction_error"
