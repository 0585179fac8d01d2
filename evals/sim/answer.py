"""Answering probes deterministically from memory: structured reads, no LLM.

Each probe's ``read`` maps to one way of reading :class:`~memlane.memory_graph.memory.Memory`:

* ``value``: the current fact for ``(subject, predicate)`` (``facts(current_only=True)``);
* ``as_of``: the fact true on the probe's date (``facts(as_of=...)``);
* ``history``: the values of ``history(subject, predicate)`` in order, repeats collapsed;
* ``when``: the start day of the period holding the probe's value (``history``);
* ``polarity``: the current ``likes``/``dislikes`` fact about the object, as yes/no;
* ``set``: the current values of a multi-valued predicate;
* ``hop``: the person the user is linked to by ``via``, then their current ``predicate``.

Anything not found is ``unknown``. When two current facts disagree (a consistency violation,
counted separately) the one that started last is the answer, as a reader would pick it.
"""

from __future__ import annotations

from collections.abc import Sequence

from memlane.evals.sim.probes import UNKNOWN, Probe
from memlane.evals.sim.timeline import SELF
from memlane.memory_graph.errors import NotFoundError
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import Fact, normalise_name

__all__ = ["ProbeAnswerer"]

_PREFERENCE = ("likes", "dislikes")


def _latest(facts: Sequence[Fact], *, positive_only: bool = True) -> Fact | None:
    """The fact that started last; by default positive only ("not X" says nothing of what is)."""
    pool = [f for f in facts if f.polarity == "positive" or not positive_only]
    return max(pool, key=lambda f: (f.start, f.recorded_at, f.id), default=None)


class ProbeAnswerer:
    """Reads answers to probes from one user's memory."""

    def __init__(self, memory: Memory, user_id: str) -> None:
        self.memory = memory
        self.user_id = user_id
        self._names: dict[str, str] = {}

    async def refresh(self) -> None:
        """Reload entity names (call once per checkpoint, before answering)."""
        self._names = {e.id: e.name for e in await self.memory.entities(self.user_id)}

    def name(self, fact: Fact) -> str:
        """The fact's object as text: the entity's name, else the literal value."""
        if fact.object_id:
            return self._names.get(fact.object_id, fact.object_id)
        return fact.value or ""

    async def _facts(self, subject: str, predicate: str, **kw: object) -> list[Fact]:
        try:
            return await self.memory.facts(
                self.user_id,
                subject=subject,
                predicate=predicate,
                **kw,  # type: ignore[arg-type]
            )
        except NotFoundError:  # the subject was never mentioned
            return []

    async def _history(self, subject: str, predicate: str) -> list[Fact]:
        try:
            found = await self.memory.history(self.user_id, subject, predicate)
        except NotFoundError:
            return []
        return [f for f in found if not f.is_retracted and f.polarity == "positive"]

    async def answer(self, probe: Probe) -> str | list[str]:
        """The answer memory gives to ``probe`` (``unknown`` when it holds none)."""
        read = probe.read
        if read == "value":
            fact = _latest(await self._facts(probe.subject, probe.predicate, current_only=True))
            return self.name(fact) if fact else UNKNOWN
        if read == "as_of":
            fact = _latest(await self._facts(probe.subject, probe.predicate, as_of=probe.as_of))
            return self.name(fact) if fact else UNKNOWN
        if read == "history":
            values: list[str] = []
            for fact in await self._history(probe.subject, probe.predicate):
                value = self.name(fact)
                if not values or normalise_name(values[-1]) != normalise_name(value):
                    values.append(value)
            return values
        if read == "when":
            key = normalise_name(probe.object or "")
            found = [
                f
                for f in await self._history(probe.subject, probe.predicate)
                if normalise_name(self.name(f)) == key
            ]
            first = min(found, key=lambda f: f.start, default=None)
            return first.start.date().isoformat() if first else UNKNOWN
        if read == "polarity":
            return await self._polarity(probe.subject, probe.object or "")
        if read == "set":
            found = await self._facts(probe.subject, probe.predicate, current_only=True)
            return sorted({self.name(f) for f in found if f.polarity == "positive"})
        if read == "hop":
            return await self._hop(probe)
        raise ValueError(f"unknown probe read {read!r}")

    async def _polarity(self, subject: str, item: str) -> str:
        key = normalise_name(item)
        found: list[Fact] = []
        for predicate in _PREFERENCE:
            found += [
                f
                for f in await self._facts(subject, predicate, current_only=True)
                if normalise_name(self.name(f)) == key
            ]
        fact = _latest(found, positive_only=False)
        if fact is None:
            return UNKNOWN
        liked = (fact.predicate == "likes") == (fact.polarity == "positive")
        return "yes" if liked else "no"

    async def _hop(self, probe: Probe) -> str:
        assert probe.via is not None
        links = await self._facts(SELF, probe.via, current_only=True)
        # Most recently linked person first; the first with the attribute answers.
        for link in sorted(links, key=lambda f: (f.start, f.recorded_at), reverse=True):
            if not link.object_id:
                continue
            fact = _latest(await self._facts(link.object_id, probe.predicate, current_only=True))
            if fact is not None:
                return self.name(fact)
        return UNKNOWN
