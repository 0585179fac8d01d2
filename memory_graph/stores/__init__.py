"""Stores: the :class:`GraphStore` port and its backends, opened by URL.

``open_store(url)`` returns an unopened store; use it as ``async with open_store(url) as s``
or call ``await store.open()``. Backends are imported lazily, so using SQLite never imports
a graph-server driver.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.stores.base import GraphStore, Hit, SearchTarget, StoreInfo

__all__ = ["SCHEMES", "GraphStore", "Hit", "SearchTarget", "StoreInfo", "open_store"]

SCHEMES = ("sqlite", "falkordb", "neo4j", "neo4j+s", "bolt", "bolt+s")
"""URL schemes :func:`open_store` accepts."""


def _sqlite_path(url: str) -> Path:
    # SQLAlchemy's convention: everything after "sqlite:///" is the path, so
    # "sqlite:////abs/memory.db" is absolute and "sqlite:///data/memory.db" is relative.
    rest = url[len("sqlite:") :]
    if not rest.startswith("///"):
        raise InputError(
            "a SQLite URL is sqlite:///PATH (sqlite:////abs/file.db or sqlite:///rel/file.db)",
            where=url,
        )
    path = rest[3:]
    if not path or path == ":memory:" or path.endswith("/"):
        raise InputError(
            "a SQLite URL needs a file path (in-memory databases are not supported)", where=url
        )
    return Path(path).expanduser()


def open_store(url: str) -> GraphStore:
    """A store for ``url`` (not yet opened).

    Accepted URLs:

    * ``sqlite:///PATH``: the embedded store in one file (parent directories are created);
    * ``falkordb://host:port/graph``: a FalkorDB server;
    * ``neo4j://``, ``neo4j+s://``, ``bolt://``, ``bolt+s://``: a Neo4j 5 server.

    Raises:
        InputError: empty URL, unknown scheme (the message lists the accepted ones), or a
            malformed SQLite path.
    """
    url = (url or "").strip()
    if not url:
        raise InputError("empty store URL", where="store")
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme == "sqlite":
        from memlane.memory_graph.stores.sqlite import SQLiteStore

        return SQLiteStore(_sqlite_path(url), url=url)

    if scheme in ("falkordb", "neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"):
        from memlane.memory_graph.stores.cypher import open_cypher_store

        return open_cypher_store(url)

    raise InputError(
        f"unknown store URL scheme {scheme or '(none)'!r}; accepted: "
        + ", ".join(f"{s}://" for s in SCHEMES),
        where="store",
    )
