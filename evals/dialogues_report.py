"""Reports of the dialogues evaluation: JSON per run, one markdown page and one bar chart.

Each run (mode) writes ``dialogues-<mode>.json`` into the report directory; the markdown page
and the chart are rebuilt from every run found there, so running the three modes one after
the other into one directory shows them side by side.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from memlane.evals.dialogues import MODES, DialogueResult

__all__ = ["HEADLINE", "write_report"]

log = logging.getLogger(__name__)

HEADLINE = (
    "fact_recall",
    "closed_recall",
    "precision",
    "changes_handled",
    "stale_kept_out",
    "questions_answered",
    "answer_first",
    "answer_in_context",
)
_MISSES_SHOWN = 400


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _runs(out_dir: Path) -> list[dict[str, Any]]:
    runs = []
    for mode in MODES:
        path = out_dir / f"dialogues-{mode}.json"
        if path.exists():
            runs.append(json.loads(path.read_text(encoding="utf-8")))
    return runs


def _markdown(runs: list[dict[str, Any]]) -> str:
    lines = ["# Dialogues evaluation", ""]
    lines.append(
        "| run | " + " | ".join(HEADLINE) + " | identity overwrites | p50 ms | p95 ms "
        "| LLM calls/turn | tokens/turn |"
    )
    lines.append("|---" * (len(HEADLINE) + 6) + "|")
    for r in runs:
        t = r["totals"]
        cells = [_cell(t.get(h)) for h in HEADLINE]
        lines.append(
            f"| {r['mode']} ({r['model']}) | "
            + " | ".join(cells)
            + f" | {_cell(t.get('identity_overwrites'))} | {r['latency_ms']['p50']} "
            f"| {r['latency_ms']['p95']} | {r['llm']['calls_per_turn']} "
            f"| {r['llm']['tokens_per_turn']} |"
        )
    lines += ["", "Questions answered per type (right/n):", ""]
    lines.append("| run | " + " | ".join(runs[0]["questions"]) + " |" if runs else "")
    if runs:
        lines.append("|---" * (len(runs[0]["questions"]) + 1) + "|")
    for r in runs:
        cells = [f"{v['right']}/{v['n']}" for v in r["questions"].values()]
        lines.append(f"| {r['mode']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "`abstain` passes when no current fact in the context shares a content word",
        "with the question (a proxy; judge the listed misses by hand).",
        "",
    ]
    for r in runs:
        lines += [f"## {r['mode']}: per user", ""]
        cols = list(r["users"][0]) if r["users"] else []
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|---" * len(cols) + "|")
        for row in r["users"]:
            lines.append("| " + " | ".join(_cell(row[c]) for c in cols) + " |")
        if r.get("write_errors"):
            lines += ["", f"Write errors: {len(r['write_errors'])}", ""]
            for e in r["write_errors"][:20]:
                lines.append(f"- {json.dumps(e, ensure_ascii=False)}")
        lines += ["", f"### {r['mode']}: misses ({len(r['misses'])})", ""]
        for m in r["misses"][:_MISSES_SHOWN]:
            lines.append(f"- **{m['user']}**, {m['what']}: {m['fact']}")
            if m.get("message"):
                for text in str(m["message"]).splitlines():
                    lines.append(f"  {text.strip()}" if text.startswith(" ") else f"  > {text}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _chart(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(runs))
    for i, r in enumerate(runs):
        values = [r["totals"].get(h) or 0.0 for h in HEADLINE]
        xs = [j + i * width for j in range(len(HEADLINE))]
        ax.bar(xs, values, width, label=f"{r['mode']} ({r['model']})")
    ax.set_xticks([j + width * (len(runs) - 1) / 2 for j in range(len(HEADLINE))])
    ax.set_xticklabels([h.replace("_", "\n") for h in HEADLINE], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share")
    ax.set_title("memlane on the dialogues set")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result: DialogueResult, out_dir: Path) -> list[Path]:
    """Write this run's JSON and rebuild the page and chart from every run in ``out_dir``.

    Returns:
        The files written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    run_path = out_dir / f"dialogues-{result.mode}.json"
    run_path.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n")
    runs = _runs(out_dir)
    page = out_dir / "dialogues.md"
    page.write_text(_markdown(runs), encoding="utf-8")
    chart = out_dir / "dialogues.png"
    _chart(runs, chart)
    log.info("dialogues report: %s, %s", page, chart)
    return [run_path, page, chart]
