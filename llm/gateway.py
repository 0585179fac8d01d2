"""The one LLM gateway: every model call in memlane goes through :class:`LLMGateway`.

Over ``litellm.acompletion`` it adds what callers should not each re-implement:

* typed output: a pydantic model in, a validated instance out, by a structured-output
  **ladder** decided per model (and endpoint) and cached (:data:`LADDER`):

  1. ``json_schema``: OpenAI's ``response_format={"type": "json_schema", ...}``;
  2. ``json_object_schema``: ``{"type": "json_object", "schema": ...}``, the form
     llama.cpp's servers constrain their decoding by;
  3. ``tool``: one forced tool call whose parameters are the schema;
  4. ``json_prompt``: JSON mode with the schema written into the prompt.

  A model LiteLLM knows starts where LiteLLM says it can; an unknown one (a local server)
  starts at the top. A server that rejects a form (an HTTP error naming it) moves the model
  one rung down, at once and without counting as a transient failure; the rung is
  remembered for the process. The schema sent for constrained decoding is
  :func:`decoding_schema` (no length limits or patterns, which grammar compilers choke on);
  the answer is still validated against the full pydantic model;
* one repair retry that shows the model its own answer and the validation errors;
* classified errors (:func:`classify`): rate limits, server errors and lost connections are
  retried with backoff, a timeout once (a single-slot server is still busy with the
  abandoned answer); authentication, a missing key, an unknown model and a bad request are
  not retried;
* a :class:`CallRecord` per call, failed ones included (model, tokens, cost, latency), kept
  in an :class:`Accounting`; a model without a known price costs 0 with ``price_known``
  false, never another model's price;
* the caller's messages are never mutated, and no process-wide LiteLLM state is changed:
  endpoint, key and options travel with each call (:class:`~memlane.llm.config.ModelConfig`).

A call that still fails raises :class:`ModelCallError` (an
:class:`~memlane.memory_graph.errors.LLMError`, with ``reason`` and the failed ``calls``) or
:class:`InvalidOutputError` (an :class:`~memlane.memory_graph.errors.ExtractionError`: the
model answered, but not with valid output); the raw answer is logged and kept on the error.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

import litellm
from pydantic import BaseModel, ValidationError

from memlane.llm.config import ModelConfig
from memlane.memory_graph.errors import ExtractionError, LLMError

__all__ = [
    "LADDER",
    "Accounting",
    "CallRecord",
    "InvalidOutputError",
    "LLMGateway",
    "Message",
    "ModelCallError",
    "Rung",
    "StructuredResult",
    "classify",
    "decoding_schema",
    "forget_rungs",
    "is_transient",
    "probe",
]

log = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)
Message = Mapping[str, Any]
Rung = Literal["json_schema", "json_object_schema", "tool", "json_prompt"]
LADDER: tuple[Rung, ...] = ("json_schema", "json_object_schema", "tool", "json_prompt")
Reason = Literal[
    "auth",
    "missing_key",
    "unknown_model",
    "bad_request",
    "rate_limit",
    "timeout",
    "connection",
    "server",
    "other",
]
RETRIED: frozenset[str] = frozenset({"rate_limit", "timeout", "connection", "server"})
"""Reasons worth another attempt (a timeout only once)."""

_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?```\s*$", re.DOTALL)
_MAX_RAW_LOG = 4000
# Words an error names when a server refuses a structured-output form rather than the request.
_FORMAT_WORDS = re.compile(r"response_format|json_schema|json_object|schema|grammar|tool", re.I)
_MISSING_KEY = re.compile(r"api[_ ]?key|credential|authenticat", re.I)
# How LiteLLM's clients say no key was given (OpenAI's arrives as an InternalServerError).
_NO_KEY = re.compile(
    r"missing credentials|api_key client option must be set|no key is set|missing \w+ api key",
    re.I,
)
_CONNECTION = re.compile(r"connection error|connection refused|connect call failed", re.I)
_UNKNOWN_MODEL = re.compile(
    r"model .*(not found|does not exist|unknown)|unknown model|LLM Provider NOT provided", re.I
)
# Schema keywords dropped from what constrained decoding sees (validation keeps them all).
_DECODING_DROP = frozenset(
    {"maxLength", "minLength", "pattern", "format", "maxItems", "minItems", "title"}
)

# Which rung each (model, endpoint) is on: learnt once per process, shared by gateways.
_RUNGS: dict[tuple[str, str | None], Rung] = {}


def forget_rungs() -> None:
    """Forget every model's learnt rung (tests; a server that was upgraded)."""
    _RUNGS.clear()


def classify(exc: BaseException) -> Reason:
    """Why a call failed, in the terms that decide a retry (see :data:`RETRIED`)."""
    text = str(exc)
    if _NO_KEY.search(text):
        return "missing_key"
    if isinstance(exc, litellm.Timeout):
        return "timeout"
    if isinstance(exc, litellm.RateLimitError):
        return "rate_limit"
    if isinstance(exc, litellm.AuthenticationError | litellm.PermissionDeniedError):
        return (
            "missing_key"
            if re.search(r"missing|not set|must be set|no api", text, re.I)
            else "auth"
        )
    if isinstance(exc, litellm.NotFoundError):
        return "unknown_model"
    if isinstance(exc, litellm.BadRequestError | litellm.UnprocessableEntityError):
        if _UNKNOWN_MODEL.search(text):
            return "unknown_model"
        if _MISSING_KEY.search(text) and re.search(r"missing|not set|must be set", text, re.I):
            return "missing_key"
        return "bad_request"
    if isinstance(
        exc,
        litellm.ServiceUnavailableError | litellm.InternalServerError | litellm.BadGatewayError,
    ):
        return "connection" if _CONNECTION.search(text) else "server"
    if isinstance(exc, litellm.APIConnectionError):
        # LiteLLM reports a client that could not even be built (no key) as a connection error.
        if _MISSING_KEY.search(text) and re.search(r"missing|not set|must be set", text, re.I):
            return "missing_key"
        return "connection"
    status = getattr(exc, "status_code", None)
    if isinstance(exc, litellm.APIError) and isinstance(status, int):
        if status >= 500:
            return "server"
        if status == 429:
            return "rate_limit"
        if status in (401, 403):
            return "auth"
        if status == 404:
            return "unknown_model"
        return "bad_request"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, ConnectionError):
        return "connection"
    return "other"


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: rate limits, 5xx, timeouts, connection failures."""
    return classify(exc) in RETRIED


def _rejects_form(exc: BaseException) -> bool:
    """An HTTP error that names the structured-output form (the server refused the form)."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int) or not 400 <= status < 600 or status in (401, 403, 429):
        return False
    return bool(_FORMAT_WORDS.search(str(exc)))


def decoding_schema(output_model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema sent for constrained decoding: the model's own, without length limits,
    patterns, formats and titles (grammar compilers choke on large ``maxLength`` values). The
    answer is validated against the full model all the same."""

    def strip(node: Any, names: bool = False) -> Any:
        # ``names``: the keys of this dict are field names (under properties / $defs).
        if isinstance(node, dict):
            return {
                k: strip(v, names=not names and k in ("properties", "$defs"))
                for k, v in node.items()
                if names or k not in _DECODING_DROP
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(output_model.model_json_schema())  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CallRecord:
    """One model call as it was billed: what, how big, how much, how long, and the outcome.

    ``price_known`` is False when the model has no price (a local server): ``cost_usd`` is
    then 0, not an estimate.
    """

    task: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    ok: bool
    attempts: int = 1
    error: str | None = None
    price_known: bool = True
    rung: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "price_known": self.price_known,
            "latency_s": round(self.latency_s, 4),
            "ok": self.ok,
            "attempts": self.attempts,
            "error": self.error,
            "rung": self.rung,
        }


@dataclass
class Accounting:
    """Every :class:`CallRecord` of a gateway, with totals (tokens, cost) per task."""

    records: list[CallRecord] = field(default_factory=list)

    def add(self, record: CallRecord) -> None:
        self.records.append(record)

    def totals(self, task: str | None = None) -> dict[str, float]:
        """Calls, tokens in/out and cost, for one task or all (``unknown_price``: calls
        whose cost is not known and counted as 0)."""
        rows = [r for r in self.records if task is None or r.task == task]
        return {
            "calls": len(rows),
            "prompt_tokens": sum(r.prompt_tokens for r in rows),
            "completion_tokens": sum(r.completion_tokens for r in rows),
            "cost_usd": sum(r.cost_usd for r in rows),
            "failed": sum(1 for r in rows if not r.ok),
            "unknown_price": sum(1 for r in rows if not r.price_known),
        }

    def by_task(self) -> dict[str, dict[str, float]]:
        return {task: self.totals(task) for task in sorted({r.task for r in self.records})}


@dataclass(frozen=True)
class StructuredResult(Generic[T]):
    """A validated answer and the calls it took (two when the repair retry ran)."""

    value: T
    calls: tuple[CallRecord, ...]
    raw: str
    rung: Rung = "json_schema"


class ModelCallError(LLMError):
    """A model call that failed (after the retries its reason allows).

    Attributes:
        reason: one of :data:`Reason` (``timeout``, ``auth``, ``missing_key``...).
        calls: the :class:`CallRecord` of every failed call, for the caller's accounting.
    """

    def __init__(
        self, message: str, *, reason: str, calls: Sequence[CallRecord] = (), where: str | None
    ) -> None:
        super().__init__(message, where=where)
        self.reason = reason
        self.calls = tuple(calls)

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "reason": self.reason}


class InvalidOutputError(ExtractionError):
    """The model answered, twice, with output that does not validate."""

    def __init__(
        self,
        message: str,
        *,
        raw: str,
        errors: str,
        where: str | None = None,
        calls: Sequence[CallRecord] = (),
    ):
        super().__init__(message, where=where)
        self.raw = raw
        self.errors = errors
        self.calls = tuple(calls)


class _FormRejected(Exception):
    """Internal: the server refused the rung's form (moves the model down, not retried)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


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


def _content(response: Any) -> str:
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError):
        return ""
    return content if isinstance(content, str) else ""


def _tool_arguments(response: Any) -> str:
    """A forced tool call's arguments (the structured answer), else the text content."""
    try:
        calls = response.choices[0].message.tool_calls or []
    except (AttributeError, IndexError):
        calls = []
    for call in calls:
        arguments = getattr(getattr(call, "function", None), "arguments", None)
        if isinstance(arguments, str) and arguments.strip():
            return arguments
    return _content(response)


def _finish_reason(response: Any) -> str | None:
    try:
        reason = response.choices[0].finish_reason
    except (AttributeError, IndexError):
        return None
    return reason if isinstance(reason, str) else None


class LLMGateway:
    """Typed, accounted, retried access to any LiteLLM model.

    Args:
        model: a :class:`~memlane.llm.config.ModelConfig`, or just a LiteLLM model name
            (``memlane/offline``, ``gpt-4o-mini``, ``openai/<served name>``...).
        timeout_s: per-request timeout (overrides the config's).
        max_retries: retries of transient errors (overrides the config's; a timeout is
            retried at most once whatever this says).
        backoff_s: first backoff delay; doubles per retry.
        accounting: where call records go (a fresh one by default; share one between the
            gateways of one agent to get its totals).
        call_options: extra ``acompletion`` arguments per task name (``"*"`` for every task),
            e.g. ``{"respond": {"temperature": 0.7}}`` or LiteLLM's ``mock_response``.
    """

    def __init__(
        self,
        model: str | ModelConfig,
        *,
        timeout_s: float | None = None,
        max_retries: int | None = None,
        backoff_s: float = 0.5,
        accounting: Accounting | None = None,
        call_options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        config = model if isinstance(model, ModelConfig) else ModelConfig(model=model)
        update: dict[str, Any] = {}
        if timeout_s is not None:
            update["timeout_s"] = timeout_s
        if max_retries is not None:
            update["max_retries"] = max_retries
        self.config = config.model_copy(update=update) if update else config
        self.backoff_s = backoff_s
        self.accounting = accounting if accounting is not None else Accounting()
        self.call_options = {k: dict(v) for k, v in (call_options or {}).items()}

    def __repr__(self) -> str:
        return f"LLMGateway({self.config.model!r}, api_base={self.config.api_base!r})"

    @property
    def model(self) -> str:
        return self.config.model

    @property
    def timeout_s(self) -> float:
        return self.config.timeout_s

    @property
    def max_retries(self) -> int:
        return self.config.max_retries

    # -- the ladder --------------------------------------------------------------------------
    def _key(self) -> tuple[str, str | None]:
        return (self.model, self.config.api_base)

    def _first_rung(self) -> Rung:
        """Where a model starts: what LiteLLM knows of it, else the top (a local server)."""
        try:
            litellm.get_model_info(model=self.model)
        except Exception:  # not in LiteLLM's map: ask the server, it says no if it must
            return "json_schema"
        if self.config.api_base is None:
            try:
                if litellm.supports_response_schema(model=self.model):
                    return "json_schema"
                if litellm.supports_function_calling(model=self.model):
                    return "tool"
            except Exception:  # a map entry without the flags: try the top
                return "json_schema"
            return "json_prompt"
        return "json_schema"

    def rung(self) -> Rung:
        """The structured-output rung this model (at this endpoint) is on."""
        return _RUNGS.get(self._key()) or self._first_rung()

    def _step_down(self, rung: Rung, cause: BaseException) -> Rung | None:
        index = LADDER.index(rung)
        if index + 1 >= len(LADDER):
            return None
        lower = LADDER[index + 1]
        _RUNGS[self._key()] = lower
        log.warning(
            "%s rejected structured output as %s; using %s from now on: %s",
            self.model,
            rung,
            lower,
            str(cause)[:300],
        )
        return lower

    def response_format(
        self,
        output_model: type[BaseModel],
        rung: Rung | None = None,
        schema: Mapping[str, Any] | None = None,
    ) -> Any:
        """The ``response_format`` of a rung (the model's current one by default), with
        ``schema`` (default :func:`decoding_schema` of the model) for constrained decoding."""
        rung = rung or self.rung()
        schema = dict(schema) if schema is not None else decoding_schema(output_model)
        if rung == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": output_model.__name__, "schema": schema, "strict": False},
            }
        if rung == "json_object_schema":
            return {"type": "json_object", "schema": schema}
        if rung == "json_prompt":
            return {"type": "json_object"}
        return None

    def _structured_kwargs(
        self,
        rung: Rung,
        output_model: type[BaseModel],
        messages: Sequence[Message],
        schema: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        schema = dict(schema) if schema is not None else decoding_schema(output_model)
        if rung == "tool":
            name = output_model.__name__
            doc = " ".join((output_model.__doc__ or name).split())
            return {
                "tools": [
                    {
                        "type": "function",
                        "function": {
                            "name": name,
                            "description": doc,
                            "parameters": schema,
                        },
                    }
                ],
                "tool_choice": {"type": "function", "function": {"name": name}},
            }
        out: dict[str, Any] = {"response_format": self.response_format(output_model, rung, schema)}
        if rung == "json_prompt":
            out["messages"] = _with_schema(messages, output_model, schema)
        return out

    # -- calls -------------------------------------------------------------------------------
    def _kwargs(self, task: str, messages: Sequence[Message], **extra: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            # LiteLLM may annotate message dicts in place; it only ever sees a copy.
            "messages": copy.deepcopy([dict(m) for m in messages]),
            "timeout": self.config.timeout_s,
            "num_retries": 0,
            "drop_params": True,
            **self.config.call_kwargs(),
        }
        if self.config.max_tokens is not None:
            kwargs["max_tokens"] = self.config.max_tokens
        for key, value in extra.items():
            if key == "max_tokens" and value is not None and "max_tokens" in kwargs:
                value = min(value, kwargs["max_tokens"])
            if key == "messages":
                value = copy.deepcopy([dict(m) for m in value])
            kwargs[key] = value
        kwargs.update(self.call_options.get("*", {}))
        kwargs.update(self.call_options.get(task, {}))
        return kwargs

    def _failed(
        self,
        task: str,
        exc: BaseException,
        attempts: int,
        started: float,
        rung: str | None = None,
    ) -> CallRecord:
        record = CallRecord(
            task,
            self.model,
            0,
            0,
            0.0,
            time.perf_counter() - started,
            False,
            attempts,
            repr(exc)[:500],
            price_known=self._price_known(),
            rung=rung,
        )
        self.accounting.add(record)
        return record

    async def _call(
        self,
        task: str,
        kwargs: dict[str, Any],
        *,
        structured: bool = False,
        rung: str | None = None,
    ) -> tuple[Any, int, float]:
        """One completion with classified retries: (response, attempts, latency).

        Raises:
            _FormRejected: (``structured`` only) the server refused the structured form.
            ModelCallError: the call failed for good (its record is in the accounting).
        """
        attempt = 0
        timeouts = 0
        started = time.perf_counter()
        while True:
            attempt += 1
            try:
                response = await litellm.acompletion(**kwargs)
                return response, attempt, time.perf_counter() - started
            except Exception as exc:
                if structured and _rejects_form(exc):
                    raise _FormRejected(exc) from exc
                reason = classify(exc)
                timeouts += reason == "timeout"
                # A timed-out request may still be running on a single-slot server: one more
                # try at most, or the retries only queue behind the abandoned answers.
                retry = reason in RETRIED and attempt <= self.config.max_retries
                if reason == "timeout" and timeouts > 1:
                    retry = False
                if retry:
                    delay = self.backoff_s * (2 ** (attempt - 1))
                    log.warning(
                        "%s: %s from %s (attempt %d), retrying in %.2fs: %s",
                        task,
                        reason,
                        self.model,
                        attempt,
                        delay,
                        str(exc)[:300],
                    )
                    await asyncio.sleep(delay)
                    continue
                record = self._failed(task, exc, attempt, started, rung)
                raise ModelCallError(
                    f"{self.model} failed ({reason}, {attempt} attempt"
                    f"{'s' if attempt > 1 else ''}): {type(exc).__name__}: {str(exc)[:500]}",
                    reason=reason,
                    calls=[record],
                    where=task,
                ) from exc

    def _price_known(self) -> bool:
        if self.config.api_base and "input_cost_per_token" not in self.config.options:
            return False  # a custom endpoint: whatever the name, not the hosted model's price
        try:
            info = litellm.get_model_info(model=self.model)
        except Exception:
            return "input_cost_per_token" in self.config.options
        return bool(info.get("input_cost_per_token") is not None)

    def _cost(self, response: Any) -> tuple[float, bool]:
        if not self._price_known():
            return 0.0, False
        try:
            # The configured model's price, never that of the name a server answers with.
            cost = litellm.completion_cost(completion_response=response, model=self.model)
        except Exception:  # no price after all
            return 0.0, False
        return float(cost or 0.0), True

    def _record(
        self,
        task: str,
        response: Any,
        attempts: int,
        latency: float,
        *,
        ok: bool,
        error: str | None = None,
        rung: str | None = None,
    ) -> CallRecord:
        prompt_tokens, completion_tokens = _usage(response)
        cost, known = self._cost(response)
        record = CallRecord(
            task=task,
            model=self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            latency_s=latency,
            ok=ok,
            attempts=attempts,
            error=error,
            price_known=known,
            rung=rung,
        )
        self.accounting.add(record)
        return record

    # -- structured --------------------------------------------------------------------------
    async def complete(
        self,
        messages: Sequence[Message],
        output_model: type[T],
        *,
        task: str,
        validation_context: Mapping[str, Any] | None = None,
        max_tokens: int | None = None,
        schema: Mapping[str, Any] | None = None,
    ) -> StructuredResult[T]:
        """Ask for ``output_model`` and return it validated.

        Args:
            messages: the prompt (not mutated).
            output_model: what the answer must validate as.
            task: the task name (accounting, per-task call options).
            validation_context: pydantic validation context.
            max_tokens: the answer's budget (the config's ``max_tokens`` caps it further).
            schema: the JSON schema for constrained decoding, when the caller can say more
                than the model's (an enum of allowed values); default
                :func:`decoding_schema`. The answer is validated against ``output_model``.

        Raises:
            ModelCallError: the call failed (after the retries its reason allows); its
                ``calls`` hold every call this made.
            InvalidOutputError: the answer did not validate, even after one repair retry.
        """
        convo: list[Message] = list(messages)
        calls: list[CallRecord] = []
        raw = ""
        errors = ""
        rung = self.rung()
        round_ = 1
        while round_ <= 2:
            form = self._structured_kwargs(rung, output_model, convo, schema)
            kwargs = self._kwargs(task, form.pop("messages", convo), max_tokens=max_tokens, **form)
            started = time.perf_counter()
            try:
                response, attempts, latency = await self._call(
                    task, kwargs, structured=True, rung=rung
                )
            except _FormRejected as rejected:
                calls.append(self._failed(task, rejected.cause, 1, started, rung))
                lower = self._step_down(rung, rejected.cause)
                if lower is None:
                    raise ModelCallError(
                        f"{self.model} rejected every structured-output form: {rejected}",
                        reason="bad_request",
                        calls=calls,
                        where=task,
                    ) from rejected.cause
                rung = lower
                continue  # the same round on the lower rung: a rejection is not an answer
            except ModelCallError as exc:
                exc.calls = (*calls, *exc.calls)
                raise
            raw = _tool_arguments(response) if rung == "tool" else _content(response)
            cut = _finish_reason(response) == "length"
            try:
                if not raw.strip():
                    raise ValueError("the answer was empty")
                value = output_model.model_validate_json(
                    _strip_fences(raw), context=dict(validation_context or {})
                )
            except (ValidationError, ValueError) as exc:
                errors = _error_summary(exc) if isinstance(exc, ValidationError) else f"- {exc}"
                if cut:
                    limit = kwargs.get("max_tokens")
                    errors = f"- the answer was cut off at max_tokens={limit}\n{errors}"
                calls.append(
                    self._record(
                        task, response, attempts, latency, ok=False, error=errors, rung=rung
                    )
                )
                log.warning(
                    "%s: invalid output from %s (round %d, %s):\n%s\nraw output: %r",
                    task,
                    self.model,
                    round_,
                    rung,
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
                        f"({output_model.__name__}){', shorter' if cut else ''}.",
                    },
                ]
                round_ += 1
                continue
            calls.append(self._record(task, response, attempts, latency, ok=True, rung=rung))
            _RUNGS.setdefault(self._key(), rung)
            return StructuredResult(value=value, calls=tuple(calls), raw=raw, rung=rung)
        raise InvalidOutputError(
            f"{self.model} returned invalid {output_model.__name__} twice:\n{errors}",
            raw=raw,
            errors=errors,
            where=task,
            calls=calls,
        )

    # -- text --------------------------------------------------------------------------------
    async def text(self, messages: Sequence[Message], *, task: str) -> tuple[str, CallRecord]:
        """A plain-text completion.

        Raises:
            ModelCallError: the call failed, or the model returned no text.
        """
        response, attempts, latency = await self._call(task, self._kwargs(task, messages))
        content = _content(response)
        if not content.strip():
            record = self._record(task, response, attempts, latency, ok=False, error="empty reply")
            raise ModelCallError(
                f"{self.model} returned an empty reply", reason="other", calls=[record], where=task
            )
        return content, self._record(task, response, attempts, latency, ok=True)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        task: str,
        on_record: Callable[[CallRecord], None] | None = None,
    ) -> AsyncIterator[str]:
        """Yield the reply's text as it arrives; the call is recorded when the stream ends.

        ``on_record`` also receives the finished call's :class:`CallRecord` (failed or not).

        Errors are retried (as :meth:`text` does) only before the first chunk: nothing was
        shown yet.

        Raises:
            ModelCallError: the call failed, mid-stream, or produced no text.
        """
        kwargs = self._kwargs(task, messages, stream=True, stream_options={"include_usage": True})
        started = time.perf_counter()
        try:
            stream, attempts, _ = await self._call(task, kwargs)
        except ModelCallError as exc:
            if on_record is not None:
                for record in exc.calls:
                    on_record(record)
            raise
        chunks: list[Any] = []
        try:
            async for chunk in stream:
                chunks.append(chunk)
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield delta
        except Exception as exc:
            record = self._failed(task, exc, attempts, started)
            if on_record is not None:
                on_record(record)
            raise ModelCallError(
                f"{self.model} failed mid-stream: {str(exc)[:500]}",
                reason=classify(exc),
                calls=[record],
                where=task,
            ) from exc
        latency = time.perf_counter() - started
        built = litellm.stream_chunk_builder(chunks, messages=kwargs["messages"])
        if not _content(built).strip():
            record = self._record(task, built, attempts, latency, ok=False, error="empty reply")
            if on_record is not None:
                on_record(record)
            raise ModelCallError(
                f"{self.model} streamed an empty reply", reason="other", calls=[record], where=task
            )
        record = self._record(task, built, attempts, latency, ok=True)
        if on_record is not None:
            on_record(record)


def _with_schema(
    messages: Sequence[Message], output_model: type[BaseModel], schema: Mapping[str, Any]
) -> list[Message]:
    """The messages with the JSON schema added to the first system message (a copy)."""
    note = (
        f"\nAnswer with one JSON object ({output_model.__name__}) matching this JSON schema:\n"
        + json.dumps(schema, separators=(",", ":"))
    )
    out: list[dict[str, Any]] = [dict(m) for m in messages]
    for message in out:
        if message.get("role") == "system" and isinstance(message.get("content"), str):
            message["content"] = message["content"] + note
            return list(out)
    return [{"role": "system", "content": note.strip()}, *out]


class _Probe(BaseModel):
    """Reply with {"ok": true}."""

    ok: bool


async def probe(gateway: LLMGateway) -> dict[str, Any]:
    """Check a model endpoint with ONE short structured call (``max_tokens`` 16).

    A server that refuses a structured-output form answers at once, without generating; the
    ladder then steps down, so the rung reported is the one extraction will use.

    Returns:
        ``{"model", "api_base", "reachable", "rung", "calls", "latency_s", "error"}``.
    """
    messages = [
        {"role": "system", "content": 'TASK: probe\nAnswer with the JSON object {"ok": true}.'},
        {"role": "user", "content": "ok?"},
    ]
    before = len(gateway.accounting.records)
    started = time.perf_counter()
    out: dict[str, Any] = {"model": gateway.model, "api_base": gateway.config.api_base}
    probing = LLMGateway(
        gateway.config.model_copy(update={"max_retries": 0, "max_tokens": 16}),
        accounting=gateway.accounting,
        backoff_s=0,
    )
    try:
        result = await probing.complete(messages, _Probe, task="probe")
    except InvalidOutputError as exc:  # it answered: reachable, the rung is known
        out.update(reachable=True, rung=probing.rung(), error=f"invalid answer: {exc.errors}")
    except LLMError as exc:
        reason = getattr(exc, "reason", "other")
        out.update(reachable=reason not in ("connection", "timeout"), rung=None, error=str(exc))
    else:
        out.update(reachable=True, rung=result.rung, error=None)
    out["calls"] = len(gateway.accounting.records) - before
    out["latency_s"] = round(time.perf_counter() - started, 3)
    return out
