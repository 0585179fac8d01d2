"""Dated plans: what "relocating to Ghent next week" means in time.

A plan predicate (:attr:`~memlane.memory_graph.predicates.PredicateRegistry.plans`) is told
with the date it is *for* (a draft's ``valid_at``, as the extraction prompt says). As a fact
the plan holds from when it was said until that date: it is a current plan until then, and
afterwards it has either happened (a later message starts the real fact: "we moved to Ghent
yesterday") or not, but it is no longer a plan. So the told date becomes the fact's end
(``invalid_at``, with ``expired_at`` empty: nobody closed it, its date came), and readers
say "planned for" that date. A plan closed earlier (cancelled, or replaced) has an
``expired_at``; its end is then when that was learnt.
"""

from __future__ import annotations

from datetime import datetime

from memlane.memory_graph.model import Fact

__all__ = ["plan_window", "planned_for"]


def plan_window(day: datetime, said_at: datetime) -> tuple[datetime | None, datetime]:
    """The validity window of a plan for ``day`` said at ``said_at``: from the saying
    (``None`` when the day had already come: it was never a plan ahead) until ``day``."""
    return (said_at if day > said_at else None), day


def planned_for(fact: Fact) -> datetime | None:
    """The date a plan fact is for, if it ran to its date (not closed by a later word)."""
    return fact.invalid_at if fact.expired_at is None else None
