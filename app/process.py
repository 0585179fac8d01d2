"""What memlane's own programs (CLI, servers) set in their process at start-up.

A library never changes its host process; a program may. These defaults keep the libraries
memlane loads off the network (no model-hub look-ups, LiteLLM's bundled cost map) and quiet
(no tokenizer fork warnings), and tune threads: numpy's BLAS on one thread (its threads fight
the embedding model for the cores, and vector search's matrix-vector products are too small
to gain from more; the ONNX Runtime query encoder runs on one thread of its own) and the
embedder's torch threads opted in at half the cores (``MEMLANE_EMBED_THREADS``, see
:class:`~memlane.memory_graph.embedding.models.SentenceTransformerEmbedder`). A variable the
user set is left as it is.

OpenBLAS reads ``OPENBLAS_NUM_THREADS`` once, when numpy loads; a program that imported numpy
before it got here (the CLI's modules do) has its limit applied through threadpoolctl instead
(about 15 ms; torch is not imported for it).
"""

from __future__ import annotations

import os
import sys

__all__ = ["OFFLINE_DEFAULTS", "configure_process", "thread_defaults"]

OFFLINE_DEFAULTS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TOKENIZERS_PARALLELISM": "false",
}


def thread_defaults() -> dict[str, str]:
    """Thread settings of memlane's programs (read by numpy and by ``Settings`` when they
    load, so applied before either, or by :func:`configure_process` after numpy)."""
    return {
        "OPENBLAS_NUM_THREADS": "1",
        "MEMLANE_EMBED_THREADS": str(max(1, (os.cpu_count() or 2) // 2)),
    }


def configure_process(*, llm: bool = True) -> None:
    """Apply :data:`OFFLINE_DEFAULTS` and :func:`thread_defaults` where the environment does
    not set them, and, with ``llm`` (a program that may call a chat model), keep LiteLLM from
    printing provider help to stdout on every failed call (memlane reports each failure
    itself, on stderr).

    ``llm=False`` is for commands that never call a model (``memlane recall``, ``search``):
    importing LiteLLM alone takes 2 s of the 2-core machine's CPU.
    """
    defaults = {**OFFLINE_DEFAULTS, **thread_defaults()}
    unset = {key for key in defaults if key not in os.environ}
    for key in unset:
        os.environ[key] = defaults[key]
    if "OPENBLAS_NUM_THREADS" in unset and "numpy" in sys.modules:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(defaults["OPENBLAS_NUM_THREADS"]), user_api="blas")
    if llm:
        import litellm

        litellm.suppress_debug_info = True
