"""A scripted, counting model for tests, registered with LiteLLM like any provider.

It is a fake at the LLM boundary only: calls go through ``litellm.acompletion`` and the real
gateway, so tests exercise the same path as production. Each call is recorded with its task
(read from the prompt, as the offline model does) and its messages; answers come from a
per-task script, falling back to the offline model.

Example::

    with ScriptedLLM.installed() as fake:
        fake.script["extract_memory"] = ["not json", '{"facts": []}']
        agent = MemoryAgent(settings=..., gateway=LLMGateway(fake.model, backoff_s=0))
        ...
        assert fake.count("extract_memory") == 2
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import litellm

from memlane.llm.offline.provider import OfflineLLM, _task, answer

__all__ = ["Call", "ScriptedLLM"]

Answer = str | BaseException | Callable[[list[Any]], str]
_IDS = itertools.count(1)


@dataclass
class Call:
    """One recorded call; ``form`` is the structured-output form it asked for (``None``,
    ``json_schema``, ``json_object_schema``, ``tool`` or ``json_prompt``)."""

    task: str
    messages: list[dict[str, Any]]
    prompt_tokens: int
    form: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


def _params(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a call asked for: LiteLLM's optional parameters, and the endpoint it named."""
    out = dict(kwargs.get("optional_params") or {})
    if kwargs.get("api_base"):
        out["api_base"] = kwargs["api_base"]
    return out


def form_of(params: dict[str, Any]) -> str | None:
    """Which structured-output form a call's parameters ask for."""
    if params.get("tools"):
        return "tool"
    fmt = params.get("response_format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        return "json_schema"
    if fmt.get("type") == "json_object":
        return "json_object_schema" if "schema" in fmt else "json_prompt"
    return None


class ScriptedLLM(OfflineLLM):
    """Answers from ``script[task]`` (in order; exceptions are raised), else like offline.

    ``latency_s[task]`` makes async completion calls of that task (extraction; replies stream)
    take that long without blocking the event loop, as a real model's do.

    ``rejects`` names structured-output forms this "server" refuses, as a server that does
    not support them would: with an HTTP 500 naming ``response_format`` (what llama-cpp-python
    answers to ``json_schema``), not counted as an answer.
    """

    def __init__(
        self,
        script: dict[str, list[Answer]] | None = None,
        latency_s: dict[str, float] | None = None,
        rejects: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.provider = f"memlane-test{next(_IDS)}"
        self.script: dict[str, list[Answer]] = script or {}
        self.latency_s: dict[str, float] = latency_s or {}
        self.rejects: set[str] = set(rejects or ())
        self.calls: list[Call] = []

    @property
    def model(self) -> str:
        return f"{self.provider}/scripted"

    def count(self, task: str | None = None) -> int:
        """Calls made (for one task, or all)."""
        return sum(1 for c in self.calls if task is None or c.task == task)

    def _answer(self, messages: list[Any], params: dict[str, Any] | None = None) -> str:
        task = _task(messages)
        tokens = litellm.token_counter(model="gpt-4o", messages=messages)
        params = dict(params or {})
        form = form_of(params)
        self.calls.append(Call(task, [dict(m) for m in messages], tokens, form, params))
        if form in self.rejects:
            raise litellm.InternalServerError(
                f"response_format of type {form!r} is not supported",
                llm_provider=self.provider,
                model=self.model,
            )
        queue = self.script.get(task)
        if queue:
            item = queue.pop(0)
            if isinstance(item, BaseException):
                raise item
            return item(messages) if callable(item) else item
        return answer(messages)

    async def acompletion(  # type: ignore[override]
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> Any:
        await asyncio.sleep(self.latency_s.get(_task(messages), 0.0))
        return self._response(model, messages, _params(kwargs))

    def completion(  # type: ignore[override]
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> Any:
        return self._response(model, messages, _params(kwargs))

    def _response(
        self, model: str, messages: list[Any], params: dict[str, Any] | None = None
    ) -> Any:
        text = self._answer(messages, params)
        response = litellm.ModelResponse(
            model=self.model,
            choices=[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                                                                       "content": text}}],
        )  # fmt: skip
        prompt = self.calls[-1].prompt_tokens
        completion = litellm.token_counter(model="gpt-4o", text=text or " ")
        response.usage = litellm.Usage(  # type: ignore[attr-defined]
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )
        return response

    def _chunks(self, messages: list[Any]) -> Iterator[Any]:
        text = self._answer(messages)
        yield {
            "text": text,
            "is_finished": True,
            "finish_reason": "stop",
            "usage": None,
            "index": 0,
            "tool_use": None,
        }

    @classmethod
    @contextmanager
    def installed(cls, **kwargs: Any) -> Iterator[ScriptedLLM]:
        """Register a fresh fake with LiteLLM for the duration of the block."""
        fake = cls(**kwargs)
        entry = {"provider": fake.provider, "custom_handler": fake}
        litellm.custom_provider_map.append(entry)  # type: ignore[arg-type]
        litellm.utils.custom_llm_setup()  # type: ignore[attr-defined]
        try:
            yield fake
        finally:
            litellm.custom_provider_map.remove(entry)  # type: ignore[arg-type]
