"""The one LLM gateway: every model call in memlane goes through :class:`LLMGateway`.

Over ``litellm.acompletion`` it adds what callers should not each re-implement:

* typed output: a pydantic model in, a validated instance out. Models LiteLLM knows to
  support JSON schemas get ``response_format`` with the model's ``model_json_schema()``;
  others get JSON mode, and the answer is validated all the same;
* one repair retry that shows the model its own answer and the validation errors;
* backoff retries on transient errors only (rate limits, 5xx, timeouts, lost connections);
* a :class:`CallRecord` per call (model, tokens, cost from LiteLLM's local cost map, latency)
  kept in an :class:`Accounting`;
* the caller's messages are never mutated.

A call that still fails raises :class:`~memlane.memory_graph.errors.LLMError` (transport) or
:class:`InvalidOutputError` (an :class:`~memlane.memory_graph.errors.ExtractionError`: the model
answered, but not with valid output); the raw answer is logged and kept on the error.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import litellm
from pydantic import BaseModel, ValidationError

from memlane.memory_graph.errors import ExtractionError, LLMError

__all__ = [
    "Accounting",
    "CallRecord",
    "InvalidOutputError",
    "LLMGateway",
    "Message",
    "StructuredResult",
    "is_transient",
]

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
Message = Mapping[str, Any]

_TRANSIENT: tuple[type[Exception], ...] = (
    litellm.RateLimitError,
    litellm.ServiceUnavailableError,
    litellm.InternalServerError,
    litellm.BadGatewayError,
    litellm.Timeout,
    litellm.APIConnectionError,
)
_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?```\s*$", re.DOTALL)
_MAX_RAW_LOG = 4000


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: rate limits, 5xx, timeouts, connection failures."""
    if isinstance(exc, _TRANSIENT):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(exc, litellm.APIError) and isinstance(status, int) and status >= 500


@dataclass(frozen=True)
class CallRecord:
    """One model call as it was billed: what, how big, how much, how long, and the outcome."""

    task: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    ok: bool
    attempts: int = 1
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "latency_s": round(self.latency_s, 4),
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
        }


@dataclass
class Accounting:
    """Every :class:`CallRecord` of a gateway, with totals (tokens, cost) per task."""

    records: list[CallRecord] = field(default_factory=list)

    def add(self, record: CallRecord) -> None:
        self.records.append(record)

    def totals(self, task: str | None = None) -> dict[str, float]:
        """Calls, tokens in/out and cost, for one task or all."""
        rows = [r for r in self.records if task is None or r.task == task]
        return {
            "calls": len(rows),
            "prompt_tokens": sum(r.prompt_tokens for r in rows),
            "completion_tokens": sum(r.completion_tokens for r in rows),
            "cost_usd": sum(r.cost_usd for r in rows),
            "failed": sum(1 for r in rows if not r.ok),
        }

    def by_task(self) -> dict[str, dict[str, float]]:
        return {task: self.totals(task) for task in sorted({r.task for r in self.records})}


@dataclass(frozen=True)
class StructuredResult(Generic[T]):
    """A validated answer and the calls it took (two when the repair retry ran)."""

    value: T
    calls: tuple[CallRecord, ...]
    raw: str


class InvalidOutputError(ExtractionError):
    """The model answered, twice, with output that does not validate."""

    def __init__(self, message: str, *, raw: str, errors: str, where: str | None = None):
        super().__init__(message, where=where)
        self.raw = raw
        self.errors = errors


def _strip_fences(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1) if match else text.strip()


def _error_summary(exc: ValidationError, limit: int = 12) -> str:
    lines = []
    for err in exc.errors(include_url=False)[:limit]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
        lines.append(f"- {loc}: {err.get('msg', 'invalid')}")
    extra = exc.error_count() - limit
    if extra > 0:
        lines.append(f"- ... and {extra} more")
    return "\n".join(lines)


def _usage(response: Any) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    return int(getattr(usage, "prompt_tokens", 0) or 0), int(
        getattr(usage, "completion_tokens", 0) or 0
    )


def _cost(response: Any) -> float:
    # LiteLLM's local cost map knows hosted models; local and custom models cost nothing.
    try:
        return float(litellm.completion_cost(completion_response=response) or 0.0)
    except Exception:  # unknown model: no price in the map, which is not an error here
        return 0.0


def _content(response: Any) -> str:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError):
        return ""
    return content if isinstance(content, str) else ""


class LLMGateway:
    """Typed, accounted, retried access to any LiteLLM model.

    Args:
        model: a LiteLLM model name (``memlane/offline``, ``gpt-4o-mini``, ``ollama/llama3``...).
        timeout_s: per-request timeout.
        max_retries: retries of transient errors (the first attempt is not counted).
        backoff_s: first backoff delay; doubles per retry.
        accounting: where call records go (a fresh one by default).
        call_options: extra ``acompletion`` arguments per task name (``"*"`` for every task),
            e.g. ``{"respond": {"temperature": 0.7}}`` or LiteLLM's ``mock_response``.
    """

    def __init__(
        self,
        model: str,
        *,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        accounting: Accounting | None = None,
        call_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.model = model
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.accounting = accounting if accounting is not None else Accounting()
        self.call_options = {k: dict(v) for k, v in (call_options or {}).items()}

    # -- helpers -----------------------------------------------------------------------------
    def supports_schema(self) -> bool:
        try:
            return bool(litellm.supports_response_schema(model=self.model))
        except Exception:  # unknown to LiteLLM's map: fall back to JSON mode
            return False

    def _kwargs(self, task: str, messages: Sequence[Message], **extra: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            # LiteLLM may annotate message dicts in place; it only ever sees a copy.
            "messages": copy.deepcopy([dict(m) for m in messages]),
            "timeout": self.timeout_s,
            "num_retries": 0,
            "drop_params": True,
        }
        kwargs.update(extra)
        kwargs.update(self.call_options.get("*", {}))
        kwargs.update(self.call_options.get(task, {}))
        return kwargs

    async def _call(self, task: str, kwargs: dict[str, Any]) -> tuple[Any, int, float]:
        """One completion with transient retries: (response, attempts, latency)."""
        attempt = 0
        started = time.perf_counter()
        while True:
            attempt += 1
            try:
                response = await litellm.acompletion(**kwargs)
                return response, attempt, time.perf_counter() - started
            except Exception as exc:
                if is_transient(exc) and attempt <= self.max_retries:
                    delay = self.backoff_s * (2 ** (attempt - 1))
                    log.warning(
                        "%s: transient error from %s (attempt %d), retrying in %.2fs: %s",
                        task,
                        self.model,
                        attempt,
                        delay,
                        exc,
                    )
                    await asyncio.sleep(delay)
                    continue
                latency = time.perf_counter() - started
                self.accounting.add(
                    CallRecord(task, self.model, 0, 0, 0.0, latency, False, attempt, repr(exc))
                )
                kind = "transient error after retries" if is_transient(exc) else "error"
                raise LLMError(
                    f"{self.model} failed ({kind}): {type(exc).__name__}: {exc}", where=task
                ) from exc

    def _record(
        self,
        task: str,
        response: Any,
        attempts: int,
        latency: float,
        *,
        ok: bool,
        error: str | None = None,
    ) -> CallRecord:
        prompt_tokens, completion_tokens = _usage(response)
        record = CallRecord(
            task=task,
            model=self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=_cost(response),
            latency_s=latency,
            ok=ok,
            attempts=attempts,
            error=error,
        )
        self.accounting.add(record)
        return record

    # -- structured --------------------------------------------------------------------------
    def response_format(self, output_model: type[BaseModel]) -> dict[str, Any]:
        """JSON schema where the model supports it, else JSON mode."""
        if self.supports_schema():
            return {
                "type": "json_schema",
                "json_schema": {
                    "name": output_model.__name__,
                    "schema": output_model.model_json_schema(),
                    "strict": False,
                },
            }
        return {"type": "json_object"}

    async def complete(
        self,
        messages: Sequence[Message],
        output_model: type[T],
        *,
        task: str,
        validation_context: Mapping[str, Any] | None = None,
    ) -> StructuredResult[T]:
        """Ask for ``output_model`` and return it validated.

        Raises:
            LLMError: the call failed (after transient retries).
            InvalidOutputError: the answer did not validate, even after one repair retry.
        """
        convo: list[Message] = list(messages)
        fmt = self.response_format(output_model)
        calls: list[CallRecord] = []
        raw = ""
        errors = ""
        for round_ in (1, 2):
            kwargs = self._kwargs(task, convo, response_format=fmt)
            response, attempts, latency = await self._call(task, kwargs)
            raw = _content(response)
            try:
                if not raw.strip():
                    raise ValueError("the answer was empty")
                value = output_model.model_validate_json(
                    _strip_fences(raw), context=dict(validation_context or {})
                )
            except (ValidationError, ValueError) as exc:
                errors = _error_summary(exc) if isinstance(exc, ValidationError) else f"- {exc}"
                calls.append(
                    self._record(task, response, attempts, latency, ok=False, error=errors)
                )
                log.warning(
                    "%s: invalid output from %s (round %d):\n%s\nraw output: %r",
                    task,
                    self.model,
                    round_,
                    errors,
                    raw[:_MAX_RAW_LOG],
                )
                # The repair round shows the model its answer and what was wrong with it.
                convo = [
                    *messages,
                    {"role": "assistant", "content": raw or "(empty)"},
                    {
                        "role": "user",
                        "content": "Your answer was not valid:\n"
                        f"{errors}\nAnswer again with only the corrected JSON object "
                        f"({output_model.__name__}).",
                    },
                ]
                continue
            calls.append(self._record(task, response, attempts, latency, ok=True))
            return StructuredResult(value=value, calls=tuple(calls), raw=raw)
        raise InvalidOutputError(
            f"{self.model} returned invalid {output_model.__name__} twice:\n{errors}",
            raw=raw,
            errors=errors,
            where=task,
        )

    # -- text --------------------------------------------------------------------------------
    async def text(self, messages: Sequence[Message], *, task: str) -> tuple[str, CallRecord]:
        """A plain-text completion.

        Raises:
            LLMError: the call failed, or the model returned no text.
        """
        response, attempts, latency = await self._call(task, self._kwargs(task, messages))
        content = _content(response)
        if not content.strip():
            self._record(task, response, attempts, latency, ok=False, error="empty reply")
            raise LLMError(f"{self.model} returned an empty reply", where=task)
        return content, self._record(task, response, attempts, latency, ok=True)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        task: str,
        on_record: Callable[[CallRecord], None] | None = None,
    ) -> AsyncIterator[str]:
        """Yield the reply's text as it arrives; the call is recorded when the stream ends.

        ``on_record`` also receives the finished call's :class:`CallRecord`.

        Transient errors are retried only before the first chunk (nothing was shown yet).

        Raises:
            LLMError: the call failed, mid-stream, or produced no text.
        """
        kwargs = self._kwargs(task, messages, stream=True, stream_options={"include_usage": True})
        stream, attempts, _ = await self._call(task, kwargs)
        started = time.perf_counter()
        chunks: list[Any] = []
        try:
            async for chunk in stream:
                chunks.append(chunk)
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield delta
        except Exception as exc:
            latency = time.perf_counter() - started
            self.accounting.add(
                CallRecord(task, self.model, 0, 0, 0.0, latency, False, attempts, repr(exc))
            )
            raise LLMError(f"{self.model} failed mid-stream: {exc}", where=task) from exc
        latency = time.perf_counter() - started
        built = litellm.stream_chunk_builder(chunks, messages=kwargs["messages"])
        if not _content(built).strip():
            self._record(task, built, attempts, latency, ok=False, error="empty reply")
            raise LLMError(f"{self.model} streamed an empty reply", where=task)
        record = self._record(task, built, attempts, latency, ok=True)
        if on_record is not None:
            on_record(record)
