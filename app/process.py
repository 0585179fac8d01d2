"""What memlane's own programs (CLI, servers) set in their process at start-up.

A library never changes its host process; a program may. These defaults keep the libraries
memlane loads off the network (no model-hub look-ups, LiteLLM's bundled cost map) and quiet
(no tokenizer fork warnings), and tune threads: numpy's BLAS on one thread (its threads fight
the embedding model for the cores, and vector search's matrix-vector products are too small
to gain from more) and the embedder's torch threads opted in at half the cores
(``MEMLANE_EMBED_THREADS``, see :class:`~memlane.memory_graph.embedding.models.
SentenceTransformerEmbedder`). A variable the user set is left as it is.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_DEFAULTS", "configure_process", "thread_defaults"]

OFFLINE_DEFAULTS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TOKENIZERS_PARALLELISM": "false",
}


def thread_defaults() -> dict[str, str]:
    """Thread settings of memlane's programs (read by numpy and by ``Settings`` when they
    load, so applied before either)."""
    return {
        "OPENBLAS_NUM_THREADS": "1",
        "MEMLANE_EMBED_THREADS": str(max(1, (os.cpu_count() or 2) // 2)),
    }


def configure_process() -> None:
    """Apply :data:`OFFLINE_DEFAULTS` and :func:`thread_defaults` where the environment does
    not set them, and keep LiteLLM from printing provider help to stdout on every failed
    call (memlane reports each failure itself, on stderr)."""
    for key, value in {**OFFLINE_DEFAULTS, **thread_defaults()}.items():
        os.environ.setdefault(key, value)
    import litellm

    litellm.suppress_debug_info = True
