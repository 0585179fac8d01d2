"""The inspector page: a user's graph, a timeline of changes and a fact's provenance.

Static files only (HTML, CSS, JS and the vendored cytoscape build); the data comes from the
HTTP API's JSON endpoints. ``build.sh`` re-vendors the graph library from npm.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["STATIC_DIR"]

STATIC_DIR = Path(__file__).parent / "static"
