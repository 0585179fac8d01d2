"""Reports of simulated runs: one JSON file, a markdown summary and PNG plots.

Several runs (seeds) are combined: accuracy per probe type is pooled over every probe of
every run, violations are summed, and the plots show the mean over runs at each checkpoint.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from memlane.evals.failures import ErrorSummary
from memlane.evals.sim.probes import PROBE_TYPES
from memlane.evals.sim.runner import SimResult, describe_failure

__all__ = ["aggregate", "write_errors", "write_report"]

log = logging.getLogger(__name__)

_HEADLINE = ("current", "as_of", "history", "preference", "multi_hop", "abstain")


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def write_errors(results: list[SimResult]) -> ErrorSummary:
    """User turns memory did not take, over every run (each kept entry names its seed)."""
    return ErrorSummary.merge(({"seed": str(r.config.seed)}, r.write_errors) for r in results)


def aggregate(results: list[SimResult]) -> dict[str, Any]:
    """One summary over several runs (the ``--json`` object when more than one seed ran).

    Accuracy is pooled over probes (each probe counts once, whichever run asked it).
    ``write_errors`` is at the top level either way: scores of turns that were never written
    are not results.
    """
    if not results:
        raise ValueError("no runs to aggregate")
    if len(results) == 1:
        return results[0].summary()
    accuracy: dict[str, float | None] = {}
    probes: dict[str, int] = {}
    for t in PROBE_TYPES:
        n = sum(r.probes.get(t, 0) for r in results)
        right = sum((r.accuracy.get(t) or 0.0) * r.probes.get(t, 0) for r in results)
        probes[t] = n
        accuracy[t] = round(right / n, 4) if n else None
    turns = sum(r.turns for r in results)
    calls = sum(r.llm_calls_per_turn * r.turns for r in results)
    return {
        "seeds": [r.config.seed for r in results],
        "writer": results[0].writer,
        "sessions": results[0].sessions,
        "turns": turns,
        "write_errors": write_errors(results).to_dict(),
        "accuracy": accuracy,
        "probes": probes,
        "consistency_violations": sum(r.consistency_violations for r in results),
        "preference_conflicts": sum(r.preference_conflicts for r in results),
        "context_tokens": {
            k: _mean([r.context_tokens[k] for r in results]) for k in ("mean", "p50", "p95")
        },
        "llm_calls_per_turn": round(calls / turns, 3) if turns else 0.0,
        "llm_tokens_per_turn": _mean([r.llm_tokens_per_turn for r in results]),
        "latency_ms": {
            k: _mean([r.latency_ms[k] for r in results]) for k in ("mean", "p50", "p95")
        },
        "recall_latency_ms": {
            k: _mean([r.recall_latency_ms[k] for r in results]) for k in ("mean", "p50", "p95")
        },
        "extraction": _pooled_extraction(results),
        "elapsed_s": {
            "total": round(sum(r.elapsed_s for r in results), 2),
            "per_run": [r.elapsed_s for r in results],
        },
        "runs": [r.summary() for r in results],
    }


def _pooled_extraction(results: list[SimResult]) -> dict[str, Any] | None:
    """Extraction recall and precision over every run's turns (agent runs; None for gold)."""
    rows = [r.extraction for r in results if r.extraction and "drafts" in r.extraction]
    if not rows:
        return None
    drafts, found = sum(e["drafts"] for e in rows), sum(e["found"] for e in rows)
    extracted, spurious = sum(e["extracted"] for e in rows), sum(e["spurious"] for e in rows)
    return {
        "recall": round(found / drafts, 3) if drafts else None,
        "precision": round((extracted - spurious) / extracted, 3) if extracted else None,
        "drafts": drafts,
        "found": found,
        "extracted": extracted,
        "spurious": spurious,
        "extra_correct": {
            k: sum(e["extra_correct"][k] for e in rows) for k in ("restated", "ended")
        },
    }


def _per_checkpoint(
    results: list[SimResult], field: str, key: str
) -> tuple[list[int], list[float]]:
    """Mean over runs of ``result.<field>[i][key]`` at each checkpoint (None skipped)."""
    marks = [row["sessions"] for row in getattr(results[0], field)]
    xs, ys = [], []
    for i, mark in enumerate(marks):
        values = [
            getattr(r, field)[i][key]
            for r in results
            if i < len(getattr(r, field)) and getattr(r, field)[i].get(key) is not None
        ]
        if values:
            xs.append(mark)
            ys.append(sum(values) / len(values))
    return xs, ys


def _plots(results: list[SimResult], out: Path, title: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, (ax, heat) = plt.subplots(
        2, 1, figsize=(9, 7.5), gridspec_kw={"height_ratios": [3, 2]}, constrained_layout=True
    )
    markers = "osD^vP*X"
    rows, marks = [], [row["sessions"] for row in results[0].accuracy_by_checkpoint]
    for i, t in enumerate(PROBE_TYPES):
        xs, ys = _per_checkpoint(results, "accuracy_by_checkpoint", t)
        by_mark = dict(zip(xs, ys, strict=True))
        rows.append([by_mark.get(m, float("nan")) for m in marks])
        if xs:
            # Thick lines first, thin on top: types with equal scores stay visible.
            ax.plot(xs, ys, marker=markers[i], markersize=4, linewidth=3.2 - 0.35 * i, label=t)
    ax.set_xlabel("sessions elapsed")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.05)
    ax.set_title(f"Probe accuracy by type - {title}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", ncol=4, fontsize=8)
    image = heat.imshow(rows, aspect="auto", vmin=0, vmax=1, cmap="RdYlGn")
    heat.set_yticks(range(len(PROBE_TYPES)), labels=list(PROBE_TYPES), fontsize=8)
    heat.set_xticks(range(len(marks)), labels=[str(m) for m in marks], fontsize=8)
    heat.set_xlabel("sessions elapsed (checkpoint)")
    for y, row in enumerate(rows):
        for x, value in enumerate(row):
            if value == value:  # not NaN: no probe of this type at this checkpoint
                heat.text(x, y, f"{value:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=heat, fraction=0.03)
    paths.append(out / "accuracy.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    paths.append(
        _line_plot(
            results,
            "context_tokens_by_checkpoint",
            (("mean", "-", "mean"), ("p95", "--", "p95"), ("max", ":", "max")),
            ylabel="recall context tokens per probe",
            title=f"Memory context size - {title}",
            path=out / "context_tokens.png",
        )
    )
    paths.append(
        _line_plot(
            results,
            "latency_by_checkpoint",
            (("p50", "-", "turn p50"), ("p95", "--", "turn p95")),
            ylabel="latency per user turn (ms)",
            title=f"Write-path latency per turn - {title}",
            path=out / "latency.png",
        )
    )
    return paths


def _line_plot(
    results: list[SimResult],
    series: str,
    lines: tuple[tuple[str, str, str], ...],
    *,
    ylabel: str,
    title: str,
    path: Path,
) -> Path:
    """One statistic per checkpoint, a line per (key, style, label); saved as a PNG."""
    import matplotlib.pyplot as plt  # the backend was chosen by _plots

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for key, style, label in lines:
        xs, ys = _per_checkpoint(results, series, key)
        ax.plot(xs, ys, style, marker="o", markersize=3, label=label)
    ax.set_xlabel("sessions elapsed")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _markdown(summary: dict[str, Any], results: list[SimResult], plots: list[Path]) -> str:
    first = results[0]
    lines = [
        "# memlane simulated long-horizon evaluation",
        "",
        f"- writer: **{first.writer}** (model `{first.config.model}`)"
        if first.writer != "gold"
        else "- writer: **gold** (the simulator's drafts committed directly; no extraction)",
        f"- seeds: {', '.join(str(r.config.seed) for r in results)}; "
        f"{first.sessions} sessions each; {sum(r.turns for r in results)} user turns in all",
        f"- embedder `{first.config.embedder}`, retrieval preset `{first.config.retrieval_preset}`",
        *_write_error_lines(results),
        "",
        "## Accuracy by probe type",
        "",
        "| type | accuracy | probes |",
        "|---|---|---|",
    ]
    for t in PROBE_TYPES:
        mark = " (headline)" if t in _HEADLINE else ""
        lines.append(
            f"| {t}{mark} | {_fmt(summary['accuracy'][t])} | {summary['probes'].get(t, 0)} |"
        )
    pooled: dict[tuple[str, str], list[int]] = {}
    for r in results:
        for type_, by_p in r.accuracy_by_predicate.items():
            for pred, (right, asked) in by_p.items():
                cell = pooled.setdefault((type_, pred), [0, 0])
                cell[0] += right
                cell[1] += asked
    if pooled:
        lines += ["", "### By predicate", "", "| type | predicate | accuracy | probes |",
                  "|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {type_} | {pred} | {right / asked:.3f} | {asked} |"
            for (type_, pred), (right, asked) in sorted(pooled.items())
        ]
    lines += [
        "",
        "## Consistency and cost",
        "",
        f"- consistency violations (two current values of a functional predicate, counted per "
        f"session check): **{summary['consistency_violations']}**",
        f"- preference conflicts (an item liked and not liked at once): "
        f"{summary['preference_conflicts']}",
        f"- recall context tokens per probe: mean {summary['context_tokens']['mean']}, "
        f"p95 {summary['context_tokens']['p95']}",
        f"- LLM calls per user turn: {summary['llm_calls_per_turn']}",
        f"- write latency per turn (ms): p50 {summary['latency_ms']['p50']}, "
        f"p95 {summary['latency_ms']['p95']}",
        "",
        "## Plots",
        "",
    ]
    lines += [f"![{p.stem}]({p.name})" for p in plots]
    lines += _extraction_lines(results)
    failures = [f for r in results for f in r.failures]
    if failures:
        lines += ["", f"## Failed probes (first {min(len(failures), 40)})", ""]
        lines += [
            f"- seed {r.config.seed}: {describe_failure(f)}" for r in results for f in r.failures
        ][:40]
    violations = [(r.config.seed, v) for r in results for v in r.violations]
    if violations:
        lines += ["", "## Consistency violations (first 20)", ""]
        lines += [
            f"- seed {seed}, after session {v['session']}: {v['subject_id']} {v['predicate']} "
            f"= {', '.join(v['values'])}"
            for seed, v in violations[:20]
        ]
    return "\n".join(lines) + "\n"


def _write_error_lines(results: list[SimResult]) -> list[str]:
    """A warning above the scores when user turns were not written (they do not measure memory)."""
    errors = write_errors(results)
    if not errors.count:
        return ["- write errors: 0 (every user turn was written)"]
    turns = sum(r.turns for r in results)
    lines = [
        "",
        f"> **Warning: {errors.count} of {turns} user turns were not written.** The scores "
        "below do not measure memory; fix the errors and run again. First errors:",
        ">",
    ]
    lines += [f"> - {ErrorSummary.describe(e)}" for e in errors.first]
    return lines


def _extraction_lines(results: list[SimResult]) -> list[str]:
    """Extraction recall per kind of statement, pooled over runs, worst first (agent only)."""
    kinds: dict[str, list[Any]] = {}
    for r in results:
        for kind, row in (r.extraction or {}).get("by_kind", {}).items():
            cell = kinds.setdefault(kind, [0, 0.0, []])
            cell[0] += row["told"]
            cell[1] += (row["recall"] or 0.0) * row["told"]
            cell[2] += row["missed_examples"]
    if not kinds:
        return []
    lines = [
        "",
        "## Extraction (per kind of statement, worst first)",
        "",
        "| kind | told | recall | a missed example |",
        "|---|---|---|---|",
    ]
    for kind, (told, found, missed) in sorted(kinds.items(), key=lambda kv: kv[1][1] / kv[1][0]):
        example = missed[0].replace("|", "/") if missed else ""
        lines.append(f"| {kind} | {told} | {found / told:.2f} | {example} |")
    lines.append("")
    for r in results:
        if not (e := r.extraction):
            continue
        extra = e.get("extra_correct", {})
        lines.append(
            f"- seed {r.config.seed}: recall {_fmt(e['recall'])}, precision "
            f"{_fmt(e['precision'])} over {e.get('extracted', '?')} facts written "
            f"({extra.get('restated', 0)} true restatements and {extra.get('ended', 0)} "
            f"negations of what the turn ended count as correct; {e.get('spurious', '?')} "
            "spurious)"
        )
    return lines


def write_report(results: list[SimResult], out_dir: str | Path) -> dict[str, Path]:
    """Write ``sim.json``, ``sim.md`` and the PNG plots into ``out_dir`` (created).

    Returns:
        The paths written, by name (``json``, ``markdown``, ``accuracy``, ``context_tokens``,
        ``latency``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = aggregate(results)
    title = f"{results[0].writer}, {len(results)} seed(s) x {results[0].sessions} sessions"
    plots = _plots(results, out, title)
    data = {
        "summary": summary,
        "runs": [r.model_dump(mode="json") for r in results],
    }
    json_path = out / "sim.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    md_path = out / "sim.md"
    md_path.write_text(_markdown(summary, results, plots))
    log.info("simulation report written to %s", out)
    return {"json": json_path, "markdown": md_path, **{p.stem: p for p in plots}}
