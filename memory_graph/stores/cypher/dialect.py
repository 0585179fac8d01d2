"""Where Neo4j 5 and FalkorDB differ: schema DDL, search calls, scores, escaping, errors.

Everything else is portable Cypher in :mod:`memlane.memory_graph.stores.cypher.queries`. A dialect
only ever formats *allowlisted* identifiers (the labels and properties in
:data:`~memlane.memory_graph.stores.cypher.queries.SEARCHABLE`); values travel as parameters.

Measured facts behind these choices are in ``shared/reference/CYPHER.md`` and
``docs/neo4j-dialect-check.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["FALKORDB", "NEO4J", "Dialect", "IndexSpec"]

_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    """An identifier we format into DDL: from our own constants only, checked anyway."""
    if not _IDENT.match(name):
        raise ValueError(f"not an identifier: {name!r}")
    return name


@dataclass(frozen=True)
class IndexSpec:
    """One index as the server lists it (normalised across backends)."""

    label: str
    properties: tuple[str, ...]
    kind: str  # "range" | "fulltext" | "vector" | "unique"
    state: str = "ONLINE"


@dataclass(frozen=True)
class Dialect:
    """The differences between two Cypher servers, as data and small pure functions."""

    name: str

    # -- values ------------------------------------------------------------------------------
    def vector_expr(self, expr: str) -> str:
        """The Cypher expression that stores a list parameter as a vector."""
        return f"vecf32({expr})" if self.name == "falkordb" else expr

    def similarity(self, score: float) -> float:
        """Cosine similarity from the server's vector score.

        FalkorDB returns the cosine *distance* ``1 - cos`` (measured: identical 0,
        orthogonal 1, opposite 2). Neo4j returns ``(1 + cos) / 2``.
        """
        if self.name == "falkordb":
            return 1.0 - float(score)
        return 2.0 * float(score) - 1.0

    def fulltext_query(self, words: Sequence[str], required: str) -> str | None:
        """Words of user text as one OR query, each escaped, that must also contain the word
        ``required`` (the user's token); None if there are none.

        The words come from :func:`memlane.memory_graph.stores._text.query_terms` (letters and
        digits
        only), so nothing should be left to escape; escaping stays as a second defence.
        """
        terms = [self._escape(w) for w in words if w]
        if not terms:
            return None
        must = self._escape(required)
        if self.name == "falkordb":
            return f"{must} ({'|'.join(terms)})"  # RediSearch ANDs by default
        return f"+{must} +({' OR '.join(terms)})"  # Lucene: + marks a required clause

    def _escape(self, term: str) -> str:
        specials = (
            r"""\,.<>{}[]"':;!@#$%^&*()-+=~|/ """
            if self.name == "falkordb"
            else r"""\+-&|!(){}[]^"~*?:/ """
        )
        out = "".join("\\" + ch if ch in specials else ch for ch in term)
        if self.name == "neo4j" and out in {"and", "or", "not", "to"}:
            # Lucene operators are upper case; quote lower-case words anyway.
            return f'"{out}"'
        return out

    # -- schema ------------------------------------------------------------------------------
    def index_name(self, label: str, prop: str, kind: str) -> str:
        return f"memlane_{_ident(label).lower()}_{_ident(prop)}_{kind}"

    def range_index(self, label: str, prop: str) -> str:
        label, prop = _ident(label), _ident(prop)
        if self.name == "falkordb":
            return f"CREATE INDEX FOR (n:{label}) ON (n.{prop})"
        name = self.index_name(label, prop, "range")
        return f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"

    def unique_key(self, label: str, props: tuple[str, ...] = ("user_id", "id")) -> str | None:
        """A uniqueness constraint on ``props``; None where writes are serialised.

        FalkorDB runs write queries one at a time per graph, so ``MERGE`` cannot race; its
        constraint API is a separate Redis command that becomes operational asynchronously.
        On Neo4j (Community too, measured on 5.26) concurrent ``MERGE``s of one key would
        each create a node without it.
        """
        if self.name == "falkordb":
            return None
        label = _ident(label)
        name = f"memlane_{label.lower()}_key"
        keys = ", ".join(f"n.{_ident(p)}" for p in props)
        return f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE ({keys}) IS UNIQUE"

    def fulltext_index(self, label: str, prop: str) -> str:
        label, prop = _ident(label), _ident(prop)
        if self.name == "falkordb":
            # No stopword list: a query made only of common words must still match.
            return (
                f"CALL db.idx.fulltext.createNodeIndex({{label: '{label}', stopwords: []}}, "
                f"'{prop}')"
            )
        name = self.index_name(label, prop, "fulltext")
        # The indexed text is pre-tokenised by the store (lower-case words joined by spaces);
        # the whitespace analyser keeps it exactly so.
        return (
            f"CREATE FULLTEXT INDEX {name} IF NOT EXISTS FOR (n:{label}) ON EACH [n.{prop}] "
            "OPTIONS {indexConfig: {`fulltext.analyzer`: 'whitespace'}}"
        )

    def vector_index(self, label: str, prop: str, dimension: int) -> str:
        label, prop = _ident(label), _ident(prop)
        dim = int(dimension)
        if not 1 <= dim <= 4096:
            raise ValueError(f"vector dimension out of range: {dimension}")
        if self.name == "falkordb":
            return (
                f"CREATE VECTOR INDEX FOR (n:{label}) ON (n.{prop}) "
                f"OPTIONS {{dimension:{dim}, similarityFunction:'cosine', efRuntime:100}}"
            )
        name = self.index_name(label, prop, "vector")
        return (
            f"CREATE VECTOR INDEX {name} IF NOT EXISTS FOR (n:{label}) ON n.{prop} "
            f"OPTIONS {{indexConfig: {{`vector.dimensions`: {dim}, "
            "`vector.similarity_function`: 'cosine'}}"
        )

    @property
    def lock_to_read_version(self) -> bool:
        """Whether reading a user's write version must take the version node's write lock.

        Neo4j (read committed) applies a committing transaction's changes while its locks are
        held, and a reader takes no lock: a read can see part of a commit, e.g. the new write
        version but not yet the new facts of the same transaction. A writer that then
        reconciled against those facts would pass the version check with a stale graph (two
        current values of a functional predicate). Taking the lock waits until the commit is
        applied whole. FalkorDB runs a write query while no read runs: a read sees a write
        whole or not at all.
        """
        return self.name != "falkordb"

    @property
    def await_indexes(self) -> str | None:
        """Wait until new indexes are online (Neo4j populates them in the background)."""
        return None if self.name == "falkordb" else "CALL db.awaitIndexes(300)"

    @property
    def list_indexes(self) -> str:
        if self.name == "falkordb":
            return "CALL db.indexes() YIELD label, properties, types, options, status"
        return (
            "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, state, "
            "owningConstraint, options WHERE entityType = 'NODE'"
        )

    def parse_indexes(self, rows: Iterable[dict[str, Any]]) -> list[IndexSpec]:
        """Rows of :attr:`list_indexes` as :class:`IndexSpec` (one per index kind/property)."""
        out: list[IndexSpec] = []
        for row in rows:
            if self.name == "falkordb":
                label = str(row["label"])
                status = str(row.get("status") or "OPERATIONAL")
                state = "ONLINE" if status == "OPERATIONAL" else status
                for prop, kinds in dict(row["types"]).items():
                    for kind in kinds:
                        out.append(IndexSpec(label, (str(prop),), str(kind).lower(), state))
            else:
                labels = row.get("labelsOrTypes") or []
                if len(labels) != 1:
                    continue
                kind = {"RANGE": "range", "FULLTEXT": "fulltext", "VECTOR": "vector"}.get(
                    str(row["type"]), str(row["type"]).lower()
                )
                if row.get("owningConstraint"):
                    # A uniqueness constraint is listed as the RANGE index backing it.
                    kind = "unique"
                props = tuple(str(p) for p in row.get("properties") or ())
                out.append(IndexSpec(str(labels[0]), props, kind, str(row.get("state"))))
        return out

    def vector_dimension(self, rows: Iterable[dict[str, Any]], label: str) -> int | None:
        """The dimension of the vector index on ``label``, if there is one."""
        for row in rows:
            if self.name == "falkordb":
                if row["label"] != label:
                    continue
                opts = dict(row.get("options") or {}).get("embedding") or {}
                if "dimension" in opts:
                    return int(opts["dimension"])
            else:
                if row.get("type") != "VECTOR" or (row.get("labelsOrTypes") or [None])[0] != label:
                    continue
                config = dict(row.get("options") or {}).get("indexConfig") or {}
                if "vector.dimensions" in config:
                    return int(config["vector.dimensions"])
        return None

    # -- search ------------------------------------------------------------------------------
    def fulltext_call(self, label: str, prop: str) -> str:
        """A ``CALL ... YIELD node, score`` over the full-text index; query text in ``$q``."""
        label = _ident(label)
        if self.name == "falkordb":
            return f"CALL db.idx.fulltext.queryNodes('{label}', $q) YIELD node, score"
        name = self.index_name(label, prop, "fulltext")
        return f"CALL db.index.fulltext.queryNodes('{name}', $q) YIELD node, score"

    def vector_call(self, label: str, prop: str) -> str:
        """A ``CALL ... YIELD node, score`` over the vector index; ``$n`` nearest to ``$v``."""
        label, prop = _ident(label), _ident(prop)
        if self.name == "falkordb":
            return (
                f"CALL db.idx.vector.queryNodes('{label}', '{prop}', $n, vecf32($v)) "
                "YIELD node, score"
            )
        name = self.index_name(label, prop, "vector")
        return f"CALL db.index.vector.queryNodes('{name}', $n, $v) YIELD node, score"

    def index_score(self, var: str, prop: str) -> str:
        """The score of a vector-index hit ``var``: the index's own where it is exact.

        Neo4j 5.26's vector index (``vector-2.0``) quantizes by default: its scores were off
        by up to 0.04 from ``(1 + cos) / 2`` and ranked hits out of order (measured). The
        exact function on the index's candidates gives the true score, on every 5.x index.
        """
        return "score" if self.name == "falkordb" else self.exact_similarity(var, prop)

    def exact_similarity(self, var: str, prop: str) -> str:
        """An expression for the cosine score of ``var.prop`` against ``$v`` (no index)."""
        var, prop = _ident(var), _ident(prop)
        if self.name == "falkordb":
            return f"vec.cosineDistance({var}.{prop}, vecf32($v))"
        return f"vector.similarity.cosine({var}.{prop}, $v)"


FALKORDB = Dialect("falkordb")
NEO4J = Dialect("neo4j")
