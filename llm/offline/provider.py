"""``memlane/offline``: a deterministic local model registered with LiteLLM.

It lets the whole loop run with no key and no network, through exactly the same gateway path
as a hosted model: :func:`register` adds it to ``litellm.custom_provider_map``, and
``litellm.acompletion(model="memlane/offline", messages=...)`` reaches :class:`OfflineLLM`.

It reads the same messages a real model gets and decides the task from them:

* an extraction prompt (``TASK: extract_memory``) gets a JSON ``ExtractionOutput`` built by
  the patterns in :mod:`memlane.llm.offline.rules.patterns`;
* a reply prompt (``TASK: respond``) gets a template reply stating what the memory holds.

Every reply it writes starts with :data:`LABEL`, so nobody mistakes it for a real model.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import litellm
from litellm import CustomLLM
from litellm.types.utils import GenericStreamingChunk, ModelResponse

from memlane.llm.offline.rules.patterns import extract, parse_extraction_prompt

__all__ = ["LABEL", "OFFLINE_MODEL", "OfflineLLM", "is_offline", "register"]

log = logging.getLogger(__name__)

PROVIDER = "memlane"
OFFLINE_MODEL = f"{PROVIDER}/offline"
LABEL = "[memlane offline model]"
_CHUNK_WORDS = 4
_STOP = {
    "the", "a", "an", "i", "my", "me", "do", "does", "did", "is", "am", "are", "was", "what",
    "where", "who", "when", "how", "which", "you", "your", "to", "of", "in", "on", "at", "and",
    "or", "now", "still", "about", "know", "tell", "remember", "any", "have", "has", "it",
}  # fmt: skip


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, list):  # OpenAI-style content parts
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def _task(messages: list[Any]) -> str:
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "system":
            m = re.match(r"\s*TASK:\s*(\w+)", _text(message))
            if m:
                return m.group(1)
    return "chat"


def _memory_lines(system: str) -> list[str]:
    _, _, memory = system.partition("MEMORY:")
    lines = [ln.strip(" -*\t") for ln in memory.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("(") and not ln.endswith(":")]


def _stem(word: str) -> str:
    # Crude, but enough for "live" / "lives" / "living" to meet.
    for suffix in ("ing", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {_stem(w) for w in words if w not in _STOP and len(w) > 1}


def _reply(messages: list[Any]) -> str:
    system = next((_text(m) for m in messages if m.get("role") == "system"), "")
    question = next((_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
    memory = _memory_lines(system)
    asked = _words(question)
    relevant = [line for line in memory if asked & _words(line)]
    is_question = question.strip().endswith("?") or bool(
        re.match(r"\s*(what|where|who|when|how|do|does|did|am|is|are|can|which)\b", question, re.I)
    )
    if is_question:
        if relevant:
            return f"{LABEL} From memory: " + " ".join(relevant[:4])
        if memory:
            return f"{LABEL} I don't have that in memory. What I do remember: " + " ".join(
                memory[:3]
            )
        return f"{LABEL} I don't have anything about that in memory yet."
    if relevant:
        return f"{LABEL} Noted. Related things I remember: " + " ".join(relevant[:3])
    return f"{LABEL} Noted, I'll remember that."


def answer(messages: list[Any]) -> str:
    """What the offline model says to ``messages`` (JSON for extraction, text otherwise)."""
    task = _task(messages)
    if task == "extract_memory":
        system = next((_text(m) for m in messages if m.get("role") == "system"), "")
        # The first user message is the prompt; later ones would be a repair request.
        user = next((_text(m) for m in messages if m.get("role") == "user"), "")
        return json.dumps(extract(parse_extraction_prompt(system, user)), ensure_ascii=False)
    if task == "respond" or task == "chat":
        return _reply(messages)
    return f"{LABEL} I only know memlane's own tasks (extract_memory, respond), not {task!r}."


def _usage(messages: list[Any], text: str) -> litellm.Usage:
    prompt = litellm.token_counter(model="gpt-4o", messages=messages)
    completion = litellm.token_counter(model="gpt-4o", text=text)
    return litellm.Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )


class OfflineLLM(CustomLLM):
    """A LiteLLM custom provider answering from patterns and templates (see module doc)."""

    def _response(self, model: str, messages: list[Any]) -> ModelResponse:
        started = time.perf_counter()
        text = answer(messages)
        response = ModelResponse(
            model=OFFLINE_MODEL,
            choices=[
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
        )
        response.usage = _usage(messages, text)  # type: ignore[attr-defined]
        log.debug("offline %s answered in %.3fs", model, time.perf_counter() - started)
        return response

    def _chunks(self, messages: list[Any]) -> Iterator[GenericStreamingChunk]:
        text = answer(messages)
        words = re.findall(r"\S+\s*", text) or [text]
        pieces = ["".join(words[i : i + _CHUNK_WORDS]) for i in range(0, len(words), _CHUNK_WORDS)]
        usage = _usage(messages, text)
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            yield GenericStreamingChunk(
                text=piece,
                is_finished=last,
                finish_reason="stop" if last else "",
                usage={  # type: ignore[typeddict-item]
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "total_tokens": usage.total_tokens,
                }
                if last
                else None,
                index=0,
                tool_use=None,
            )

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:  # type: ignore[override]
        return self._response(model, messages)

    async def acompletion(  # type: ignore[override]
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> ModelResponse:
        return self._response(model, messages)

    def streaming(  # type: ignore[override]
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        yield from self._chunks(messages)

    async def astreaming(  # type: ignore[override]
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self._chunks(messages):
            yield chunk


_INSTANCE = OfflineLLM()


def register() -> None:
    """Make ``memlane/offline`` available to LiteLLM (idempotent)."""
    # LiteLLM prints provider help to stdout when it looks up a price it cannot find.
    litellm.suppress_debug_info = True
    if not any(item.get("provider") == PROVIDER for item in litellm.custom_provider_map):
        litellm.custom_provider_map.append({"provider": PROVIDER, "custom_handler": _INSTANCE})
    litellm.utils.custom_llm_setup()  # type: ignore[attr-defined]


def is_offline(model: str) -> bool:
    """True when ``model`` is the offline model (outputs are labelled as such)."""
    return model.startswith(f"{PROVIDER}/")
