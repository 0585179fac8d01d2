"""What memlane's own programs (CLI, servers) set in their process at start-up.

A library never changes its host process; a program may. These defaults keep the libraries
memlane loads off the network (no model-hub look-ups, LiteLLM's bundled cost map) and quiet
(no tokenizer fork warnings). A variable the user set is left as it is.
"""

from __future__ import annotations

import os

__all__ = ["OFFLINE_DEFAULTS", "configure_process"]

OFFLINE_DEFAULTS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_process() -> None:
    """Apply :data:`OFFLINE_DEFAULTS` where the environment does not set them."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
