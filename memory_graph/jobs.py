"""The extraction job: what is owed to a stored message, so that no message is ever lost.

A turn's episodes are stored first, with a ``pending`` job in the same atomic write; the
turn's facts land with the job marked ``done`` (again one write), and a failed extraction
marks it ``failed`` with the error's code. A ``pending`` job after a crash is a deferred
write that was acknowledged and not finished: it is resumed on the next start. A ``failed``
one waits for ``memlane retry-failed``.

Stores keep a job as its JSON (:meth:`ExtractionJob.to_json` / :meth:`from_json`, the one
codec) beside the columns they query by: user, id, status and creation time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from memlane.memory_graph.timeutil import utcnow

__all__ = ["ExtractionJob", "JobStatus", "job_id_for"]

JobStatus = Literal["pending", "failed", "done"]


def job_id_for(episode_ids: Sequence[str]) -> str:
    """The job of a set of episodes: the same messages are the same job (idempotent)."""
    digest = hashlib.sha256("\x1f".join(sorted(episode_ids)).encode()).hexdigest()[:24]
    return f"job_{digest}"


class ExtractionJob(BaseModel):
    """Extraction owed to (or done for) one turn's stored episodes.

    Attributes:
        id: :func:`job_id_for` of ``episode_ids``.
        user_id: whose messages.
        session_id: their conversation.
        episode_ids: the turn's episodes (user and assistant), in order.
        at: the turn time (relative dates resolve against it).
        status: ``pending`` (owed), ``failed`` (``code``/``reason``/``message`` say why) or
            ``done`` (its facts are committed).
        attempts: extraction runs so far.
        created_at / updated_at: when it was recorded / last changed (resume order).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^job_[0-9a-f]{24}$")
    user_id: str
    session_id: str | None = None
    episode_ids: tuple[str, ...] = Field(min_length=1)
    at: datetime
    status: JobStatus = "pending"
    code: str | None = None
    reason: str | None = None
    message: str | None = Field(default=None, max_length=2000)
    attempts: int = Field(default=0, ge=0)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def for_turn(
        cls, user_id: str, session_id: str | None, episode_ids: Sequence[str], at: datetime
    ) -> ExtractionJob:
        """A new pending job for a turn's episodes."""
        return cls(
            id=job_id_for(episode_ids),
            user_id=user_id,
            session_id=session_id,
            episode_ids=tuple(episode_ids),
            at=at,
        )

    def done(self) -> ExtractionJob:
        """This job, finished (its facts are in the same write)."""
        return self.model_copy(
            update={
                "status": "done",
                "code": None,
                "reason": None,
                "message": None,
                "attempts": self.attempts + 1,
                "updated_at": utcnow(),
            }
        )

    def failed(self, code: str, message: str, reason: str | None = None) -> ExtractionJob:
        """This job, failed with an error's code (and the model call's reason)."""
        return self.model_copy(
            update={
                "status": "failed",
                "code": code,
                "reason": reason,
                "message": message[:2000],
                "attempts": self.attempts + 1,
                "updated_at": utcnow(),
            }
        )

    def to_json(self) -> str:
        """The stored form (every store keeps this string)."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> ExtractionJob:
        return cls.model_validate_json(text)
