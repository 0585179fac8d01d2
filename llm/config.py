"""How to reach one model: name, endpoint, key and call options, for one task.

A :class:`ModelConfig` is what :class:`~memlane.llm.gateway.LLMGateway` is built from. Every
endpoint detail travels with the call (``api_base``, ``api_key`` and the extra options are
``litellm.acompletion`` arguments), so two tasks can use two servers in one process and no
process-wide LiteLLM setting (``OPENAI_API_BASE``, ``litellm.api_base``) is read or changed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["ModelConfig"]

# Arguments the gateway sets itself; an ``options`` entry may not override them.
_RESERVED = frozenset({"model", "messages", "api_base", "api_key", "timeout", "stream"})


class ModelConfig(BaseModel):
    """One task's model and how to call it.

    Attributes:
        model: a LiteLLM model name (``gpt-4o-mini``, ``openai/<served name>``, ``ollama/...``).
        api_base: the endpoint (an OpenAI-compatible ``.../v1`` for local servers).
        api_key: the key, kept secret (never logged, never in ``repr`` or ``to_public``).
        timeout_s: per-request timeout.
        max_tokens: upper bound on every answer's length (extraction also sizes its own).
        max_retries: retries of rate limits and server errors (a timeout is retried once).
        options: further ``litellm.acompletion`` arguments (``temperature``, ``top_p``,
            ``extra_headers``...).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(min_length=1, max_length=300)
    api_base: str | None = Field(default=None, max_length=2000)
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_retries: int = Field(default=3, ge=0, le=10)
    options: dict[str, Any] = Field(default_factory=dict)

    def call_kwargs(self) -> dict[str, Any]:
        """The endpoint arguments every call of this model carries."""
        out: dict[str, Any] = {k: v for k, v in self.options.items() if k not in _RESERVED}
        if self.api_base:
            out["api_base"] = self.api_base
        if self.api_key is not None:
            out["api_key"] = self.api_key.get_secret_value()
        return out

    def to_public(self) -> dict[str, Any]:
        """What may be shown (status pages, logs): everything but the key's value."""
        return {
            "model": self.model,
            "api_base": self.api_base,
            "api_key": "set" if self.api_key is not None else None,
            "timeout_s": self.timeout_s,
            "max_tokens": self.max_tokens,
            "max_retries": self.max_retries,
            "options": sorted(self.options),
        }
