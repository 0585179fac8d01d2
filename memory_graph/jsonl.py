"""Reading one line of a JSONL file (ingest, import) safely: bounded nesting, clear errors."""

from __future__ import annotations

import json
from typing import Any

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.limits import MAX_JSON_DEPTH

__all__ = ["parse_json_line"]


# Real records nest two or three levels; deeper input is rejected before it reaches any
# recursive code (the JSON decoder itself raises RecursionError near 1,000 levels).


def _depth(value: object) -> int:
    # Iterative, so a deep value cannot exhaust the stack here either.
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json_line(text: str, *, where: str) -> Any:
    """One JSON document of a JSONL file, nested at most :data:`MAX_JSON_DEPTH` levels.

    Raises:
        InputError: malformed JSON, or nested too deeply (``where`` names the line).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg} (column {exc.colno})", where=where) from exc
    except RecursionError:
        data = None
        depth = MAX_JSON_DEPTH + 1
    else:
        depth = _depth(data)
    if depth > MAX_JSON_DEPTH:
        raise InputError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", where=where) from None
    return data
