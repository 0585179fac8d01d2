"""Simulated long-horizon evaluation: the public entry point (``memlane eval sim``).

A seeded simulated user lives through N sessions; memory is probed at checkpoints with exact
expected answers. The pieces, each in its own module:

* :mod:`memlane.evals.sim.generate` / :mod:`memlane.evals.sim.timeline`: the user's life and the
gold facts;
* :mod:`memlane.evals.sim.render`: sessions as dialogue (paraphrased templates);
* :mod:`memlane.evals.sim.probes`: questions and expected answers at checkpoints;
* :mod:`memlane.evals.sim.runner`: feeding sessions through the agent (or ``--gold``) and scoring;
* :mod:`memlane.evals.sim.answer`, :mod:`memlane.evals.sim.extraction`,
:mod:`memlane.evals.sim.llm`: reading answers,
  scoring extraction, optional LLM user-simulator and judge;
* :mod:`memlane.evals.report`: JSON, markdown and plots.

Example::

    import asyncio
    from memlane.evals.sim.simulate import SimConfig, run_simulation, write_report

    result = asyncio.run(run_simulation(SimConfig(sessions=200, seed=0, gold=True)))
    print(result.accuracy, result.consistency_violations)
    write_report([result], "sim-report/")
"""

from __future__ import annotations

from memlane.evals.report import aggregate, write_report
from memlane.evals.sim.generate import generate_timeline
from memlane.evals.sim.probes import PROBE_TYPES, Probe, make_probes
from memlane.evals.sim.render import render_session
from memlane.evals.sim.runner import SimConfig, SimResult, run_simulation
from memlane.evals.sim.timeline import GoldFact, Timeline

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
