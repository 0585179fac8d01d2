"""A per-user ordered background queue for memory writes.

Writes of one user run one at a time in the order they were submitted (each reads the graph
the previous one wrote); different users run concurrently. Failures are never dropped: each
is kept as a :class:`WriteFailure` (see :meth:`WriteQueue.failures` / :meth:`status`) and
logged. :meth:`settle` waits for one user's writes (a turn calls it before reading memory),
:meth:`close` drains everything before returning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from memlane.memory_graph.errors import MemlaneError
from memlane.memory_graph.timeutil import to_iso, utcnow

__all__ = ["WriteFailure", "WriteQueue"]

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class WriteFailure:
    """A background write that did not happen."""

    user_id: str
    label: str
    code: str
    message: str
    at: datetime = field(default_factory=utcnow)

    def to_dict(self) -> dict[str, str]:
        return {
            "user_id": self.user_id,
            "label": self.label,
            "code": self.code,
            "message": self.message,
            "at": to_iso(self.at) or "",
        }


class WriteQueue:
    """Background writes, ordered per user, failures recorded."""

    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue[tuple[str, Job, asyncio.Future[Any]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._failures: list[WriteFailure] = []
        self._done = 0
        self._pending = 0
        self._closed = False

    def submit(self, user_id: str, job: Job, *, label: str = "write") -> asyncio.Future[Any]:
        """Queue ``job`` after the user's earlier writes; returns a future of its result.

        Raises:
            MemlaneError: the queue is closed.
        """
        if self._closed:
            raise MemlaneError("the write queue is closed", where="queue")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        queue = self._queues.get(user_id)
        if queue is None:
            queue = self._queues[user_id] = asyncio.Queue()
            self._workers[user_id] = loop.create_task(self._work(user_id, queue))
        queue.put_nowait((label, job, future))
        self._pending += 1
        return future

    async def _work(self, user_id: str, queue: asyncio.Queue[tuple[str, Job, Any]]) -> None:
        while True:
            label, job, future = await queue.get()
            try:
                result = await job()
            except Exception as exc:  # recorded and visible in status(), not swallowed
                code = exc.code if isinstance(exc, MemlaneError) else type(exc).__name__
                failure = WriteFailure(user_id, label, code, str(exc))
                self._failures.append(failure)
                log.error("background write %s for %s failed: %s", label, user_id, exc)
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: the failure lives in failures()
            else:
                self._done += 1
                if not future.done():
                    future.set_result(result)
            finally:
                self._pending -= 1
                queue.task_done()

    async def drain(self) -> None:
        """Wait until every submitted write has finished (or failed)."""
        await asyncio.gather(*(q.join() for q in list(self._queues.values())))

    async def settle(self, user_id: str, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for ``user_id``'s queued writes; whether they all finished.

        A turn calls this before it reads memory, so it sees what the user's earlier turns
        said (read-your-writes) without its own reply waiting for its own write.
        """
        queue = self._queues.get(user_id)
        if queue is None:
            return True
        try:
            await asyncio.wait_for(queue.join(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop accepting writes, drain, and stop the workers."""
        self._closed = True
        await self.drain()
        for task in self._workers.values():
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)
        self._workers.clear()

    def failures(self, user_id: str | None = None) -> list[WriteFailure]:
        """Every failed write (of one user, or all), oldest first."""
        return [f for f in self._failures if user_id is None or f.user_id == user_id]

    def status(self) -> dict[str, Any]:
        """Pending, done and failed counts, and the failures."""
        return {
            "pending": self._pending,
            "done": self._done,
            "failed": len(self._failures),
            "failures": [f.to_dict() for f in self._failures],
        }
