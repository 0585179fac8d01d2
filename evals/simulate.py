"""Simulated long-horizon evaluation: the public entry point (``memlane eval sim``).

A seeded simulated user lives through N sessions; memory is probed at checkpoints with exact
expected answers. The pieces, each in its own module:

* :mod:`evals.sim_generate` / :mod:`evals.sim_timeline`: the user's life and the gold facts;
* :mod:`evals.sim_render`: sessions as dialogue (paraphrased templates);
* :mod:`evals.sim_probes`: questions and expected answers at checkpoints;
* :mod:`evals.sim_runner`: feeding sessions through the agent (or ``--gold``) and scoring;
* :mod:`evals.sim_answer`, :mod:`evals.sim_extraction`, :mod:`evals.sim_llm`: reading answers,
  scoring extraction, optional LLM user-simulator and judge;
* :mod:`evals.report`: JSON, markdown and plots.

Example::

    import asyncio
    from evals.simulate import SimConfig, run_simulation, write_report

    result = asyncio.run(run_simulation(SimConfig(sessions=200, seed=0, gold=True)))
    print(result.accuracy, result.consistency_violations)
    write_report([result], "sim-report/")
"""

from __future__ import annotations

from evals.report import aggregate, write_report
from evals.sim_generate import generate_timeline
from evals.sim_probes import PROBE_TYPES, Probe, make_probes
from evals.sim_render import render_session
from evals.sim_runner import SimConfig, SimResult, run_simulation
from evals.sim_timeline import GoldFact, Timeline

__all__ = [
    "PROBE_TYPES",
    "GoldFact",
    "Probe",
    "SimConfig",
    "SimResult",
    "Timeline",
    "aggregate",
    "generate_timeline",
    "make_probes",
    "render_session",
    "run_simulation",
    "write_report",
]
