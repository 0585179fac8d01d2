"""Times in memlane: timezone-aware UTC datetimes in Python, epoch milliseconds in stores."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from memlane.memory_graph.errors import InputError

__all__ = ["from_ms", "parse_time", "to_iso", "to_ms", "utcnow"]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def utcnow() -> datetime:
    """The current time, UTC, truncated to milliseconds (what stores keep)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def parse_time(value: str | datetime | date | int | float, *, field: str = "time") -> datetime:
    """Parse an ISO-8601 string, a date, a datetime or epoch milliseconds into aware UTC.

    Naive datetimes are taken as UTC. A bare date means midnight UTC of that day.

    Raises:
        InputError: the value is not a time; the message names ``field``.
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, bool):
        raise InputError(f"expected a time, got {value!r}", where=field)
    elif isinstance(value, int | float):
        try:
            return from_ms(int(value))
        except (OverflowError, OSError, ValueError) as exc:
            raise InputError(f"epoch milliseconds out of range: {value!r}", where=field) from exc
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError("empty time", where=field)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = (
                datetime.fromisoformat(text + "T00:00:00")
                if _DAY.match(text)
                else datetime.fromisoformat(text)
            )
        except ValueError as exc:
            raise InputError(
                f"not an ISO-8601 date or time: {value!r} (expected e.g. 2024-05-01 or "
                "2024-05-01T14:30:00Z)",
                where=field,
            ) from exc
    else:
        raise InputError(f"expected a time, got {type(value).__name__}", where=field)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    dt = dt.astimezone(UTC)
    return dt.replace(microsecond=(dt.microsecond // 1000) * 1000)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    """Aware UTC datetime from epoch milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def to_iso(dt: datetime | None) -> str | None:
    """ISO-8601 UTC with a ``Z`` suffix, or None."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
