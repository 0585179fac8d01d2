"""Every size limit on input, stated once; each boundary enforces these same numbers.

The Python API (:class:`~memlane.memory_graph.memory.Memory`, ``MemoryAgent``), the tools
layer and the tool argument models the LLM and MCP see, the CLI, and the HTTP API's request
models all import their limits from here, so a value one boundary accepts is never refused
by the next layer down (a 32,000-character chat message is a valid message; the query the
chat loop derives from it is cut to :data:`MAX_QUERY_CHARS`, it is not refused).
"""

from __future__ import annotations

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_CONTENT_CHARS",
    "MAX_INGEST_MESSAGES",
    "MAX_JSON_DEPTH",
    "MAX_K",
    "MAX_NAME_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_PREDICATE_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_STATEMENT_CHARS",
    "MAX_TIME_CHARS",
    "MAX_VALUE_CHARS",
]

MAX_CONTENT_CHARS = 32_000
"""One message (an episode's content): a chat turn, an ingested line."""
MAX_STATEMENT_CHARS = 2_000
"""A fact's readable sentence, an entity's summary."""
MAX_QUERY_CHARS = 4_000
"""A recall or search query."""
MAX_NOTE_CHARS = 1_000
"""A note the user asks to remember."""
MAX_VALUE_CHARS = 1_000
"""A corrected value."""
MAX_NAME_CHARS = 300
"""An entity name given as a subject."""
MAX_PREDICATE_CHARS = 64
"""A predicate name."""
MAX_TIME_CHARS = 40
"""A date or time as text (ISO 8601)."""
MAX_K = 100
"""Results one search returns."""
MAX_INGEST_MESSAGES = 500
"""Messages in one HTTP ingest request."""
MAX_BODY_BYTES = 1_000_000
"""One HTTP request body."""
MAX_JSON_DEPTH = 32
"""How deeply one JSON line of an ingest or import file may nest."""
