"""The Cypher store's pure parts: query text, dialects, URLs (no server needed)."""

from __future__ import annotations

import re

import pytest

from memlane.memory_graph.errors import InputError
from memlane.memory_graph.stores import open_store
from memlane.memory_graph.stores._text import query_terms
from memlane.memory_graph.stores.cypher.dialect import FALKORDB, NEO4J, Dialect
from memlane.memory_graph.stores.cypher.queries import LABELS, REL_TYPES, Queries, node, rel
from memlane.memory_graph.stores.cypher.ranking import indexed_words, text_props, user_token
from memlane.memory_graph.stores.cypher.store import CypherStore

pytestmark = pytest.mark.unit

# Statements that read across users on purpose (``users``, global ``counts``, the schema
# upgrade's walk over every record) or touch no user data (schema metadata).
_GLOBAL = {
    "users",
    "count_all",
    "count_label",
    "read_meta",
    "write_meta",
    "scan_text",
    "set_text",
}


def _statements(q: Queries) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in vars(q).items():
        if name in _GLOBAL or name == "dialect":
            continue
        if isinstance(value, str):
            out.append((name, value))
        elif isinstance(value, dict):
            out += [(f"{name}[{key}]", text) for key, text in value.items()]
    out.append(("find_facts", q.find_facts(["n.kind IN $kinds"])))
    return out


@pytest.mark.parametrize("dialect", [FALKORDB, NEO4J], ids=lambda d: d.name)
def test_every_pattern_is_scoped_to_the_user(dialect: Dialect) -> None:
    labels = "|".join(LABELS)
    types = "|".join(REL_TYPES)
    for name, text in _statements(Queries(dialect)):
        if name.startswith("checkpoint_"):
            # Thread state is keyed by thread id, which names its user (``user|session``);
            # only LangGraph's list with no thread (every thread) spans them.
            assert "$thread_id" in text or name == "checkpoint_list[False]", name
            continue
        assert "$user_id" in text, name
        for match in re.finditer(rf"\(\w+:({labels})\b[^)]*\)", text):
            assert "{user_id: $user_id" in match.group(0), (name, match.group(0))
        for match in re.finditer(rf"\[\w*:({types})\b[^\]]*\]", text):
            if match.group(0).startswith("[old:"):
                continue  # deleting a fact's own edges, reached from the user's fact node
            assert "{user_id: $user_id}" in match.group(0), (name, match.group(0))


def test_builders_accept_only_known_identifiers() -> None:
    assert node("n", "Fact", "row.id") == "(n:Fact {user_id: $user_id, id: row.id})"
    assert rel("FROM") == "[:FROM {user_id: $user_id}]"
    with pytest.raises(ValueError):
        node("n", "Fact) DETACH DELETE (m")
    with pytest.raises(ValueError):
        rel("KNOWS")


def test_no_statement_returns_embeddings() -> None:
    for dialect in (FALKORDB, NEO4J):
        for name, text in _statements(Queries(dialect)):
            returned = text.rsplit("RETURN", 1)[-1] if "RETURN" in text else ""
            if name.startswith("get_embeddings"):
                continue  # export only
            assert "embedding" not in returned, name


@pytest.mark.parametrize(
    ("text", "falkordb", "neo4j"),
    [
        ("Where does the user live? Paris!", "user|live|paris", "user OR live OR paris"),
        ('sushi"); MATCH (n) DETACH DELETE n //', "sushi|match|n|detach|delete", None),
        ("AND OR NOT * ( ) :", "and|or|not", '"and" OR "or" OR "not"'),
        ("", None, None),
        ("😀 ?!", None, None),
    ],
)
def test_fulltext_queries_are_words_ored_and_require_the_users_token(
    text: str, falkordb: str | None, neo4j: str | None
) -> None:
    terms = query_terms(text)
    token = user_token("alice")
    assert token.isalnum() and token != user_token("bob")
    expected = f"{token} ({falkordb})" if falkordb else None
    assert FALKORDB.fulltext_query(terms, token) == expected
    if neo4j is not None or not terms:
        expected = f"+{token} +({neo4j})" if neo4j else None
        assert NEO4J.fulltext_query(terms, token) == expected


def test_escaping_is_a_second_defence() -> None:
    assert FALKORDB.fulltext_query(["a-b", "c|d"], "u1") == "u1 (a\\-b|c\\|d)"
    assert NEO4J.fulltext_query(["a:b", "(c)"], "u1") == "+u1 +(a\\:b OR \\(c\\))"


def test_stored_text_starts_with_the_users_token_and_ranking_ignores_it() -> None:
    props = text_props("alice", "I live in Paris", None)
    stored, length = props["search_text"], props["search_len"]
    assert stored.split()[0] == user_token("alice") and length == len(stored.split()) - 1
    assert indexed_words(stored, "alice") == " ".join(stored.split()[1:])
    assert indexed_words("live paris", "alice") == "live paris"  # a schema-1 text
    assert text_props("alice")["search_text"] == user_token("alice")


def test_vector_scores_become_cosine_similarity() -> None:
    # FalkorDB: cosine distance 1 - cos; Neo4j: (1 + cos) / 2.
    assert [FALKORDB.similarity(s) for s in (0.0, 1.0, 2.0)] == [1.0, 0.0, -1.0]
    assert [NEO4J.similarity(s) for s in (1.0, 0.5, 0.0)] == [1.0, 0.0, -1.0]


def test_ddl_differs_where_the_servers_differ() -> None:
    assert FALKORDB.range_index("Fact", "id") == "CREATE INDEX FOR (n:Fact) ON (n.id)"
    assert "IF NOT EXISTS" in NEO4J.range_index("Fact", "id")
    assert FALKORDB.unique_key("Fact") is None
    assert "REQUIRE (n.user_id, n.id) IS UNIQUE" in (NEO4J.unique_key("Fact") or "")
    assert "vecf32" in FALKORDB.vector_expr("row.vec")
    assert NEO4J.vector_expr("row.vec") == "row.vec"
    with pytest.raises(ValueError):
        FALKORDB.vector_index("Fact", "embedding", 0)
    with pytest.raises(ValueError):
        NEO4J.fulltext_index("Fact`) DROP", "x")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("falkordb://localhost:6390/g1", "falkordb://localhost:6390/g1"),
        ("falkordb://:s3cret@db.example:6379/memory", "falkordb://db.example:6379/memory"),
        ("falkordb://", "falkordb://localhost:6379/memlane"),
        ("neo4j://neo4j:pw@host:7687?database=mem", "neo4j://host:7687?database=mem"),
        ("bolt://u:p%40ss@host", "bolt://host:7687"),
    ],
)
def test_urls_open_cypher_stores_without_showing_passwords(url: str, shown: str) -> None:
    store = open_store(url)
    assert isinstance(store, CypherStore)
    assert store.url == shown


@pytest.mark.parametrize(
    "url",
    [
        "falkordb://host:99999/g",
        "falkordb://host:port/g",
        "falkordb://host/bad name",
        "neo4j://host?database=bad;name",
    ],
)
def test_bad_cypher_urls_are_input_errors(url: str) -> None:
    with pytest.raises(InputError):
        open_store(url)
