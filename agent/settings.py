"""Settings, read once at the edge (CLI, server) from ``MEMLANE_*`` variables and passed down.

Library code never reads the environment; it receives a :class:`Settings` or plain arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from memlane.llm.config import ModelConfig
from memlane.memory_graph.embedding.models import Precision
from memlane.memory_graph.errors import InputError

__all__ = ["LLMTask", "ModelSettings", "Settings", "default_store_url", "read_settings"]

LLMTask = Literal["chat", "extraction", "judge"]


def default_store_url() -> str:
    """A SQLite file in the user's data directory."""
    return f"sqlite:///{Path(user_data_dir('memlane')) / 'memory.db'}"


class ModelSettings(BaseModel):
    """One task's model settings; every field left out is inherited (see :meth:`Settings.llm`).

    Set from the environment as ``MEMLANE_<TASK>__<FIELD>`` (``MEMLANE_CHAT__API_BASE``,
    ``MEMLANE_EXTRACTION__MODEL``, ``MEMLANE_JUDGE__API_KEY``,
    ``MEMLANE_CHAT__OPTIONS='{"temperature": 0}'``).
    """

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(default=None, min_length=1, description="LiteLLM model name")
    api_base: str | None = Field(default=None, description="endpoint, e.g. http://host:8080/v1")
    api_key: SecretStr | None = Field(default=None, description="the endpoint's key (secret)")
    timeout_s: float | None = Field(default=None, gt=0, le=3600)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_retries: int | None = Field(default=None, ge=0, le=10)
    options: dict[str, Any] = Field(
        default_factory=dict, description="extra litellm.acompletion arguments"
    )


class Settings(BaseSettings):
    """Everything configurable, with the variable that sets it (``MEMLANE_<NAME>``)."""

    model_config = SettingsConfigDict(
        env_prefix="MEMLANE_", extra="ignore", env_nested_delimiter="__"
    )

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
        description="a SQLite file for chat threads' LangGraph checkpoints instead of the store; "
        "default: the store itself (the SQLite store's file, a graph server's graph, shared by "
        "replicas), so forget deletes them with the memory",
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
    chat: ModelSettings = Field(
        default_factory=ModelSettings, description="the reply model (its name: MEMLANE_MODEL)"
    )
    extraction: ModelSettings = Field(
        default_factory=ModelSettings, description="the extraction model (default: the chat one)"
    )
    judge: ModelSettings = Field(
        default_factory=ModelSettings, description="the evaluation judge (default: the chat one)"
    )

    def llm(self, task: LLMTask) -> ModelConfig:
        """The model a task uses, with its endpoint and call options.

        ``chat`` is ``MEMLANE_MODEL`` (or ``chat.model``) with the ``chat`` fields.
        ``extraction`` and ``judge`` default to the chat model and inherit its endpoint,
        key and options; a task that names ANOTHER model inherits none of them (a hosted
        judge must not be sent to the local chat server), only the timeout and retries.
        Unset timeouts and retries come from ``llm_timeout_s`` / ``llm_max_retries``;
        ``max_tokens`` is never inherited (extraction sizes its own answers).
        """
        chat = self.chat
        chat_model = chat.model or self.model
        own = chat if task == "chat" else getattr(self, task)
        same = own.model is None or own.model == chat_model
        base = chat if same else ModelSettings()
        return ModelConfig(
            model=own.model or chat_model,
            api_base=own.api_base or base.api_base,
            api_key=own.api_key or base.api_key,
            timeout_s=own.timeout_s or base.timeout_s or self.llm_timeout_s,
            # Not inherited: a reply's cap would cut extraction's JSON (which sizes its own).
            max_tokens=own.max_tokens,
            max_retries=(
                own.max_retries
                if own.max_retries is not None
                else base.max_retries
                if base.max_retries is not None
                else self.llm_max_retries
            ),
            options={**base.options, **own.options},
        )


def read_settings() -> Settings:
    """The settings of the ``MEMLANE_*`` variables.

    Raises:
        InputError: a variable's value is invalid; the message names each such variable.
    """
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"MEMLANE_{_variable(e['loc'])}={_shown(e['loc'], e['input'])}: {e['msg']}"
            for e in exc.errors()
        ]
        raise InputError("; ".join(problems), where="settings") from None


def _variable(loc: tuple[Any, ...]) -> str:
    head, *rest = [str(p) for p in loc]
    if head in ("chat", "extraction", "judge") and rest:
        return f"{head}__{rest[0]}".upper()
    return "_".join([head, *rest]).upper()


def _shown(loc: tuple[Any, ...], value: Any) -> str:
    # A key's value is never echoed, not even in an error.
    return "(hidden)" if any("key" in str(p) for p in loc) else repr(value)
