"""Store URLs of the Cypher servers.

* ``falkordb://host:port/graph`` (defaults ``localhost:6379``, graph ``memlane``); a
  password as ``falkordb://:password@host:port/graph`` (or ``user:password@`` with ACLs).
* ``neo4j://user:password@host:port?database=name`` and the other Neo4j schemes
  (``neo4j+s``, ``neo4j+ssc``, ``bolt``, ``bolt+s``, ``bolt+ssc``); database defaults to the
  server's default database.

Passwords are never part of the URL a store reports (``store.url``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.stores.cypher.store import CypherStore

__all__ = ["FALKORDB_SCHEMES", "NEO4J_SCHEMES", "open_cypher_store"]

FALKORDB_SCHEMES = ("falkordb",)
NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _port(url: str, port_text: str | None, default: int) -> int:
    if not port_text:
        return default
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise InputError(f"invalid port {port_text!r}", where=url)
    return int(port_text)


def _split_netloc(url: str, netloc: str) -> tuple[str | None, str | None, str, str | None]:
    """user, password, host, port text (urlsplit's port raises on bad input; we explain)."""
    userinfo, _, hostport = netloc.rpartition("@")
    user = password = None
    if userinfo:
        user_text, sep, pw_text = userinfo.partition(":")
        user = unquote(user_text) or None
        password = unquote(pw_text) if sep else None
    host, _, port = hostport.partition(":")
    if hostport.startswith("["):  # IPv6 literal
        host, _, rest = hostport[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    return user, password, host or "localhost", port or None


def _redact(scheme: str, host: str, port: int, path: str) -> str:
    return f"{scheme}://{host}:{port}{path}"


def open_cypher_store(url: str) -> CypherStore:
    """A (not yet opened) :class:`CypherStore` for a ``falkordb://`` or Neo4j URL.

    Raises:
        InputError: unknown scheme, bad port or graph/database name.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    user, password, host, port_text = _split_netloc(url, parts.netloc)
    if scheme in FALKORDB_SCHEMES:
        from memlane.memory_graph.stores.cypher.falkordb_backend import FalkorDBSession

        port = _port(url, port_text, 6379)
        graph = parts.path.strip("/") or "memlane"
        if not _NAME.match(graph):
            raise InputError(
                f"invalid graph name {graph!r} (letters, digits, '_', '-', '.')", where="url"
            )
        fsession = FalkorDBSession(host, port, graph, password=password, username=user)
        return CypherStore(fsession, url=_redact(scheme, host, port, f"/{graph}"))
    if scheme in NEO4J_SCHEMES:
        from memlane.memory_graph.stores.cypher.neo4j_backend import Neo4jSession

        port = _port(url, port_text, 7687)
        databases = parse_qs(parts.query).get("database") or []
        database = databases[0] if databases else None
        if database is not None and not _NAME.match(database):
            raise InputError(f"invalid database name {database!r}", where="url")
        shown = _redact(scheme, host, port, f"?database={database}" if database else "")
        nsession = Neo4jSession(
            f"{scheme}://{host}:{port}",
            user=user,
            password=password,
            database=database,
            display_url=shown,
        )
        return CypherStore(nsession, url=shown)
    raise InputError(
        f"not a Cypher store URL: {scheme or '(no scheme)'}://... "
        f"(expected falkordb:// or one of {', '.join(NEO4J_SCHEMES)})",
        where="url",
    )
