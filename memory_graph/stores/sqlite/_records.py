"""Decoded records kept in memory, in step with the database, so a read decodes a row once.

Turning a row into a validated record costs several times what reading it costs (about 7 us
against 3 us a row), and a recall reads hundreds of rows, most of them read by the previous
recall too: the user's profile, their recent messages, the facts around the entities they talk
about. Records are immutable, so the decoded object can be handed out again for as long as
its row is unchanged. The store evicts a record whenever it writes or deletes it, drops a user
on forget, and clears everything when another connection has committed (``data_version``).
Only the store's single database thread touches this object.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from memlane.memory_graph.stores._types import Record

__all__ = ["RecordCache"]

Key = tuple[str, str, str]  # (target, user_id, id)


class RecordCache:
    """Least-recently-used map from ``(target, user_id, id)`` to a decoded record.

    Args:
        max_records: how many records to keep (a decoded fact is about 1.5 KB, a message
            1.2 KB: the default holds at most about 150 MB).
    """

    def __init__(self, max_records: int = 100_000) -> None:
        self.max_records = max_records
        self._items: OrderedDict[Key, Record] = OrderedDict()
        self.hits = 0  # reads answered from memory / decoded (bench/retrieval.py reports them)
        self.misses = 0

    def __len__(self) -> int:
        return len(self._items)

    def decode(self, target: str, row: Sequence[Any], conv: Callable[[Any], Any]) -> Any:
        """The record ``row`` holds (``row`` starts with ``id, user_id``): the one decoded
        before when there is one, else ``conv(row)``, kept for next time."""
        key = (target, row[1], row[0])
        items = self._items
        found = items.get(key)
        if found is not None:
            self.hits += 1
            items.move_to_end(key)
            return found
        self.misses += 1
        record = conv(row)
        if self.max_records > 0:
            items[key] = record
            if len(items) > self.max_records:
                items.popitem(last=False)
        return record

    def get(self, target: str, user_id: str, ids: Iterable[str]) -> dict[str, Record]:
        """The cached records among ``ids``, by id."""
        items, out = self._items, {}
        for rid in ids:
            key = (target, user_id, rid)
            found = items.get(key)
            if found is not None:
                items.move_to_end(key)
                out[rid] = found
        self.hits += len(out)
        return out

    def evict(self, target: str, user_id: str, ids: Iterable[str]) -> None:
        for rid in ids:
            self._items.pop((target, user_id, rid), None)

    def drop_user(self, user_id: str) -> None:
        for key in [k for k in self._items if k[1] == user_id]:
            del self._items[key]

    def clear(self) -> None:
        self._items.clear()
