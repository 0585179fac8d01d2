"""A prompt template that fails loudly: every ``$name`` must be given, and nothing extra.

Built on :class:`string.Template` (``$name`` / ``${name}``; ``$$`` is a literal dollar), so
text inserted as a value is never itself expanded.
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from memlane.memory_graph.errors import InputError

__all__ = ["MissingVariablesError", "Template"]


class MissingVariablesError(InputError):
    """A template was rendered without some of its variables (or with unknown ones)."""

    code = "prompt_variables"


class Template:
    """A named ``string.Template`` whose render checks its variables both ways."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self._template = string.Template(text)
        if not self._template.is_valid():
            raise MissingVariablesError(f"template {name!r} has an invalid placeholder")
        self.variables = frozenset(self._template.get_identifiers())

    def render(self, values: Mapping[str, object]) -> str:
        """Fill the template.

        Raises:
            MissingVariablesError: a variable is missing, or a value has no placeholder.
        """
        missing = sorted(self.variables - values.keys())
        extra = sorted(values.keys() - self.variables)
        if missing or extra:
            raise MissingVariablesError(
                f"template {self.name!r}: missing {missing or 'none'}, unexpected {extra or 'none'}"
            )
        return self._template.substitute({k: str(v) for k, v in values.items()})
