"""One worker thread for the store's connection, fed in batches.

Every database call of the SQLite store runs on one thread that owns the connection. Handing
each call to that thread and its result back to the event loop costs two thread switches; on
a busy machine a switch can wait for a time slice, and a recall makes a few dozen reads, so
the switches, not the reads, were most of its time. Calls made together (an
``asyncio.gather`` of reads, or several tasks reading at once) therefore go over as one
batch: they are collected for a couple of loop ticks (long enough for the tasks a gather
starts, and the gathers those start, to make their calls), run back to back on the worker,
and their results come back in one hand-off. Calls still run one at a time and in the order
made, so nothing about the store's consistency changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from memlane.memory_graph.errors import StoreError

__all__ = ["BatchWorker"]

T = TypeVar("T")

_Call = tuple[Callable[[], Any], "asyncio.Future[Any]"]

TICKS = 3
"""Loop ticks a batch stays open: a gather's tasks start one tick after it, and a task that
gathers again (the profile reads inside the candidates gather) one tick after that."""


class BatchWorker:
    """A single worker thread that runs the calls made in the same few loop ticks together."""

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=name)
        # Per loop; a loop closed while its batch was open is not kept alive by it.
        self._pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Call]] = (
            weakref.WeakKeyDictionary()
        )

    async def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the worker thread, in a batch with the calls made in the same ticks."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            loop.call_soon(self._tick, loop, TICKS - 1)
        pending.append((fn, future))
        return await future

    async def run(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the worker thread on its own (open and close)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def shutdown(self, *, wait: bool) -> None:
        self._executor.shutdown(wait=wait)

    def _tick(self, loop: asyncio.AbstractEventLoop, left: int) -> None:
        if left > 0:
            loop.call_soon(self._tick, loop, left - 1)
            return
        batch = self._pending.pop(loop, [])
        try:
            self._executor.submit(self._work, loop, batch)
        except RuntimeError:  # the store closed while the batch was open
            _settle(
                [
                    (future, None, StoreError("the store was closed before this call ran"))
                    for _, future in batch
                ]
            )

    @staticmethod
    def _work(loop: asyncio.AbstractEventLoop, batch: list[_Call]) -> None:
        done: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        for fn, future in batch:
            try:
                done.append((future, fn(), None))
            except BaseException as exc:  # handed to the caller, like run_in_executor
                done.append((future, None, exc))
        # The loop may have closed while the batch ran: then nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, done)


def _settle(done: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, value, exc in done:
        if future.cancelled():
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(value)
