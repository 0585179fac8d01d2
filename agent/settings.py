"""Settings, read once at the edge (CLI, server) from ``MEMLANE_*`` variables and passed down.

Library code never reads the environment; it receives a :class:`Settings` or plain arguments.
"""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from memlane.memory_graph.embedding.models import Precision
from memlane.memory_graph.errors import InputError

__all__ = ["Settings", "default_store_url", "read_settings"]


def default_store_url() -> str:
    """A SQLite file in the user's data directory."""
    return f"sqlite:///{Path(user_data_dir('memlane')) / 'memory.db'}"


class Settings(BaseSettings):
    """Everything configurable, with the variable that sets it (``MEMLANE_<NAME>``)."""

    model_config = SettingsConfigDict(env_prefix="MEMLANE_", extra="ignore")

    store: str = Field(default_factory=default_store_url, description="store URL")
    model: str = Field(default="memlane/offline", description="any LiteLLM model name")
    embedder: str = Field(
        default="minilm",
        description="'minilm' (the packaged all-MiniLM-L6-v2), 'hash' (fast, for tests), "
        "or any sentence-transformers model name or path",
    )
    embed_precision: Precision = Field(
        default="auto",
        description="embedding precision: 'bf16' embeds ~2.3x faster where "
        "the CPU has native bfloat16 (cosine >= 0.9999 to fp32); 'auto' uses it there only",
    )
    embed_threads: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="opt-in thread tuning: torch threads for small embedding calls (bulk "
        "calls time this against all cores); unset leaves torch's threads to the process "
        "(memlane's CLI and server default it to half the cores)",
    )
    retrieval_preset: str = Field(default="balanced", description="named retrieval preset")
    context_tokens: int = Field(default=1200, ge=100, le=32_000)
    defer_writes: bool = Field(default=False, description="write memory in a background queue")
    settle_writes_s: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="with deferred writes, how long a turn waits for the user's queued writes "
        "before reading memory (read-your-writes); 0: no wait",
    )
    extract_candidates: int = Field(
        default=15, ge=0, le=30, description="existing facts an extraction prompt sees"
    )
    checkpoint_db: str | None = Field(
        default=None,
        description="a file for chat threads' LangGraph checkpoints; default: the SQLite store's "
        "own file (so forget deletes them with the memory), else threads.db in the data dir",
    )
    thread_history: int = Field(
        default=200, ge=2, le=10_000, description="messages a chat thread keeps (oldest dropped)"
    )
    thread_checkpoints: int = Field(
        default=2, ge=1, le=1_000, description="checkpoints kept per thread (older are pruned)"
    )
    api_key: str | None = Field(default=None, description="HTTP API key (required if set)")
    allowed_hosts: list[str] | None = Field(
        default=None,
        description='Host header values the HTTP server answers, e.g. ["memory.example.com"]; '
        '"*" allows any; default: loopback names only (localhost, 127.0.0.1, ::1) when no API '
        "key is set, any host when one is",
    )
    functional_predicates: list[str] = Field(default_factory=list)
    multi_valued_predicates: list[str] = Field(default_factory=list)
    predicate_synonyms: dict[str, str] = Field(
        default_factory=dict, description='other name -> predicate, e.g. {"lodges_in": "lives_in"}'
    )
    predicate_antonyms: dict[str, str] = Field(
        default_factory=dict,
        description='name -> predicate it negates, e.g. {"avoids": "likes"}: stored as the '
        "predicate with the opposite polarity",
    )
    llm_timeout_s: float = Field(default=60.0, gt=0)
    llm_max_retries: int = Field(default=3, ge=0, le=10)


def read_settings() -> Settings:
    """The settings of the ``MEMLANE_*`` variables.

    Raises:
        InputError: a variable's value is invalid; the message names each such variable.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"MEMLANE_{'_'.join(str(p) for p in e['loc']).upper()}={e['input']!r}: {e['msg']}"
            for e in exc.errors()
        ]
        raise InputError("; ".join(problems), where="settings") from None
