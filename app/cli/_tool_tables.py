"""Rich renderings of the tools' results for the terminal (``--json`` prints the models)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from rich.console import Console
from rich.table import Table

from memlane.tools.models import (
    Corrected,
    Diff,
    EpisodeView,
    Explanation,
    FactList,
    FactView,
    Forgotten,
    History,
    Profile,
    Remembered,
    SearchResult,
)

__all__ = ["render"]


def _day(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d") if when else "…"


def _window(fact: FactView) -> str:
    return f"{_day(fact.valid_at)} → {_day(fact.invalid_at)}"


def fact_table(title: str, facts: Iterable[FactView], *, score: bool = False) -> Table:
    """One row per fact: id, statement, validity window, status (and score)."""
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("id", style="dim", no_wrap=True)
    table.add_column("statement")
    table.add_column("predicate", style="cyan")
    table.add_column("valid", no_wrap=True)
    table.add_column("status")
    if score:
        table.add_column("score", justify="right")
    for f in facts:
        # A negative fact ("I can't stand sushi" is likes, negative) must not read as a like.
        predicate = f"NOT {f.predicate}" if f.polarity == "negative" else f.predicate
        row = [f.id, f.statement, predicate, _window(f), f.status]
        if score:
            row.append(f"{f.score:.3f}" if f.score is not None else "")
        table.add_row(*row)
    return table


def episode_table(title: str, episodes: Iterable[EpisodeView]) -> Table:
    """One row per source message."""
    table = Table(title=title, title_justify="left")
    table.add_column("when", no_wrap=True)
    table.add_column("role")
    table.add_column("message")
    for e in episodes:
        table.add_row(e.occurred_at.strftime("%Y-%m-%d %H:%M"), e.role, e.content)
    return table


def render(console: Console, result: object) -> None:
    """Print a tool result as tables."""
    if isinstance(result, Profile):
        when = f"as of {_day(result.as_of)}" if result.as_of else "now"
        console.print(f"[bold]{result.user_id}[/bold]: {result.count} facts {when}")
        for kind, facts in result.facts.items():
            if facts:
                console.print(fact_table(kind, facts))
        if result.no_longer:
            console.print(fact_table("no longer", result.no_longer))
    elif isinstance(result, FactList):
        when = (
            f"as of {_day(result.as_of)}"
            if result.as_of
            else ("all" if result.include_ended else "current")
        )
        title = f"{result.user_id}: {len(result.facts)} facts ({when})"
        console.print(fact_table(title, result.facts))
    elif isinstance(result, History):
        title = f"{result.user_id}: {result.subject} {result.predicate}"
        console.print(fact_table(title, result.facts))
    elif isinstance(result, SearchResult):
        console.print(fact_table(f"facts for {result.query!r}", result.facts, score=True))
        if result.superseded:
            console.print(fact_table("no longer true", result.superseded, score=True))
        if result.episodes:
            console.print(episode_table("messages", result.episodes))
    elif isinstance(result, Explanation):
        f = result.fact
        console.print(f"[bold]{f.statement}[/bold]  ({f.id}, {f.status}, valid {_window(f)})")
        console.print(f"learned {result.learned_at.isoformat()}")
        console.print(episode_table("from", result.episodes))
        if result.superseded:
            console.print(fact_table("it replaced", result.superseded))
        if result.superseded_by:
            console.print(fact_table("replaced by", result.superseded_by))
    elif isinstance(result, Diff):
        span = f"{_day(result.since)} → {_day(result.until)}"
        console.print(fact_table(f"became true {span}", result.started))
        console.print(fact_table(f"stopped being true {span}", result.ended))
    elif isinstance(result, Remembered):
        console.print(f"remembered [bold]{result.fact.statement}[/bold] ({result.fact.id})")
    elif isinstance(result, Corrected):
        console.print(f"retracted {result.old.id}: {result.old.statement}")
        console.print(f"recorded  {result.new.id}: [bold]{result.new.statement}[/bold]")
    elif isinstance(result, Forgotten):
        what = f"fact {result.fact_id}" if result.fact_id else f"everything of {result.user_id}"
        counts = ", ".join(f"{n} {kind}" for kind, n in result.deleted.items())
        console.print(f"forgot {what} ({counts})")
    else:  # pragma: no cover - every tool result is handled above
        console.print(result)
