"""Operations an evaluation could not do, kept beside its scores so they never pass as results.

A simulated turn that was not written, or a LoCoMo answer the judge could not grade, still
leaves a score behind (a probe answered "unknown", a verdict counted wrong). An
:class:`ErrorSummary` counts those failures and keeps the first few in full (code, message
and where), and the CLI refuses to pass such a run off as a result (see ``memlane eval sim``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["KEEP", "ErrorSummary"]

KEEP = 5
"""How many failures are kept in full; the rest are only counted."""


class ErrorSummary(BaseModel):
    """How many operations failed, and the first :data:`KEEP` of them.

    Each kept entry has ``code`` and ``message`` (a
    :class:`~memlane.memory_graph.errors.MemlaneError`'s
    ``to_dict()``) plus context such as ``session`` and ``at``.
    """

    count: int = 0
    first: list[dict[str, str]] = Field(default_factory=list)

    def add(self, code: str, message: str, **context: str) -> None:
        """Count one failure; keep it in full while fewer than :data:`KEEP` are kept."""
        self.count += 1
        if len(self.first) < KEEP:
            self.first.append({"code": code, "message": message, **context})

    @staticmethod
    def describe(entry: dict[str, str]) -> str:
        """One line for a kept failure: ``[code] message (key=value, ...)``."""
        context = ", ".join(f"{k}={v}" for k, v in entry.items() if k not in ("code", "message"))
        return f"[{entry.get('code', '?')}] {entry.get('message', '')}" + (
            f" ({context})" if context else ""
        )

    @classmethod
    def merge(cls, parts: Iterable[tuple[dict[str, str], ErrorSummary]]) -> ErrorSummary:
        """Pool several summaries; ``parts`` pairs each with context for its entries (a seed)."""
        out = cls()
        for context, part in parts:
            out.count += part.count
            for entry in part.first:
                if len(out.first) < KEEP:
                    out.first.append({**entry, **context})
        return out

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
