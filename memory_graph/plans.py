"""Dated plans: what "relocating to Ghent next week" means in time.

A plan predicate (:attr:`~memlane.memory_graph.predicates.PredicateRegistry.plans`) is told
by an extraction model with the date it is *for* (its ``valid_at``, as the prompt's predicate
line says). As a fact the plan holds from when it was said until that date: it is a current
plan until then, and afterwards it has either happened (a later message starts the real
fact: "we moved to Ghent yesterday") or not, but it is no longer a plan. So at the extraction
boundary (``agent/graph.py``) the told date becomes the draft's end (``invalid_at``; its
start is the saying, observed), and EXISTING FACTS show a plan with that date as its
``valid_at`` again. A fact that ran to its end has ``expired_at`` empty (nobody closed it,
its date came), and readers say "planned for" that date; a plan closed earlier (cancelled,
replaced) has an ``expired_at``, and its end is when that was learnt.

A draft committed directly (``Memory.commit``, a facts file) means what every draft means:
``valid_at`` is when the plan began to hold, ``invalid_at`` the day it is for.
"""

from __future__ import annotations

from datetime import datetime

from memlane.memory_graph.model import Fact

__all__ = ["planned_for", "told_window"]


def told_window(
    valid_at: datetime | None, invalid_at: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """A plan's window as a draft, from the window an extraction model told: a date with no
    end is the day it is for (the draft's end; its start is left to the observation)."""
    if valid_at is not None and invalid_at is None:
        return None, valid_at
    return valid_at, invalid_at


def planned_for(fact: Fact) -> datetime | None:
    """The date a plan fact is for, if it ran to its date (not closed by a later word)."""
    return fact.invalid_at if fact.expired_at is None else None
