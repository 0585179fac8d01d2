"""All Cypher text of the Cypher store, in one place, parameterised.

Graph shape (the same on Neo4j and FalkorDB)::

    (:Entity)-[:SUBJECT_OF]->(:Fact)-[:OBJECT]->(:Entity)
                              (:Fact)-[:FROM]->(:Episode)

Facts are *nodes*, not relationships: node indexes (range, full-text, vector) exist on both
servers, relationship indexes do not (reliably). A fact's ``subject_id``, ``object_id`` and
``episode_ids`` properties are authoritative and indexed; the three relationship types make
the graph walkable in Neo4j Browser or FalkorDB's browser and are kept in step by
:attr:`Queries.apply`. Every node and every relationship carries ``user_id``: the patterns
below are only ever written through :func:`node` and :func:`rel`, which add it, and every
query takes ``$user_id``. Times are epoch-millisecond integers.

Labels and relationship types come from fixed tuples; no identifier is ever built from
model or user text.
"""

from __future__ import annotations

from typing import Final

from memlane.memory_graph.stores._codec import FIELDS as CODEC_FIELDS
from memlane.memory_graph.stores.cypher.dialect import Dialect

__all__ = [
    "ENTITY_FIELDS",
    "EPISODE_FIELDS",
    "FACT_FIELDS",
    "LABELS",
    "REL_TYPES",
    "SEARCHABLE",
    "Queries",
    "node",
    "rel",
]

LABELS: Final = ("Episode", "Entity", "Fact")
REL_TYPES: Final = ("SUBJECT_OF", "OBJECT", "FROM")
META_LABEL: Final = "MemlaneMeta"
#: One node per user holding the user's write version (``GraphStore.write_version``).
VERSION_LABEL: Final = "MemlaneUser"
#: Chat threads' LangGraph checkpoints and their pending writes (``stores.threads``): a node
#: each, the serialised blob as base64 text (FalkorDB's protocol has no bytes), owned by the
#: user in ``user_id`` (what ``forget`` deletes by).
CHECKPOINT_LABEL: Final = "MemlaneCheckpoint"
CHECKPOINT_WRITE_LABEL: Final = "MemlaneCheckpointWrite"
#: 1: first release. 2: searchable text starts with its user's token (``ranking.user_token``).
SCHEMA_VERSION: Final = 2

# The codec's stored fields; ``user_id`` is in every node pattern (:func:`node`) instead.
EPISODE_FIELDS: Final = tuple(f for f in CODEC_FIELDS["episode"] if f != "user_id")
ENTITY_FIELDS: Final = tuple(f for f in CODEC_FIELDS["entity"] if f != "user_id")
FACT_FIELDS: Final = tuple(f for f in CODEC_FIELDS["fact"] if f != "user_id")
FIELDS: Final = {"Episode": EPISODE_FIELDS, "Entity": ENTITY_FIELDS, "Fact": FACT_FIELDS}

#: Per label: the property the full-text index covers, and the vector property.
TEXT_PROP: Final = "search_text"
TEXT_LEN_PROP: Final = "search_len"
VECTOR_PROP: Final = "embedding"
SEARCHABLE: Final = {"fact": "Fact", "episode": "Episode", "entity": "Entity"}
#: Per label: the time that orders full-text matches newest first (the scoring window).
NEWEST: Final = {"Fact": "recorded_at", "Episode": "recorded_at", "Entity": "created_at"}

#: Range indexes (every label on user_id and id; facts also on their endpoints).
RANGE_INDEXES: Final = (
    *((label, "user_id") for label in LABELS),
    *((label, "id") for label in LABELS),
    ("Fact", "subject_id"),
    ("Fact", "object_id"),
    ("Episode", "session_id"),
    (META_LABEL, "key"),
    *(
        (label, prop)
        for label in (CHECKPOINT_LABEL, CHECKPOINT_WRITE_LABEL)
        for prop in ("thread_id", "user_id")
    ),
)

# Every section of a write set's statement starts here: it goes on only while the user's
# write version is the one the writer read (``$if_version``; null: unconditional). The
# version changes last, so every section of one statement sees the same one.
_GATE = (
    f"MATCH (gate:{VERSION_LABEL} {{user_id: $user_id}}) "
    "WHERE $if_version IS NULL OR gate.version = $if_version"
)


JOB_LABEL = "ExtractionJob"


def node(var: str, label: str, id_expr: str | None = None) -> str:
    """A node pattern scoped to ``$user_id`` (and to ``id_expr`` when given)."""
    if label not in LABELS:
        raise ValueError(f"unknown label {label!r}")
    key = f", id: {id_expr}" if id_expr else ""
    return f"({var}:{label} {{user_id: $user_id{key}}})"


def rel(rel_type: str, var: str = "") -> str:
    """A relationship pattern scoped to ``$user_id``."""
    if rel_type not in REL_TYPES:
        raise ValueError(f"unknown relationship type {rel_type!r}")
    return f"[{var}:{rel_type} {{user_id: $user_id}}]"


def project(var: str, label: str) -> str:
    """Return the model fields of ``var`` by name (never the embedding)."""
    return ", ".join(f"{var}.{f} AS {f}" for f in FIELDS[label])


def _some(var: str) -> str:
    """``FOREACH`` over one element when ``var`` matched, none otherwise."""
    return f"FOREACH (present IN CASE WHEN {var} IS NULL THEN [] ELSE [1] END |"


class Queries:
    """The store's statements for one dialect, built once."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        vec = dialect.vector_expr("row.vec")
        set_vectors = "".join(
            f"""
WITH count(*) AS done
{_GATE}
UNWIND $vectors.{label} AS row
MATCH {node("n", label, "row.id")}
SET n.{VECTOR_PROP} = {vec}"""
            for label in LABELS
        )

        # One statement per write set: FalkorDB has no transactions, but each statement is
        # atomic on both servers. ``WITH count(*) AS done`` ends each section with exactly one
        # row, whatever the previous UNWIND produced (an empty list gives zero rows).
        # Vectors go last, by id, so a vector may also update a record stored earlier.
        # The user's version node comes first: on Neo4j, SET takes its write lock, held to
        # commit, so a concurrent writer of the same user waits there and then reads the
        # version this one leaves (a read before the lock could see the older one). It
        # returns no row when the version was not ``$if_version``: nothing was written.
        self.apply = f"""
MERGE (gate:{VERSION_LABEL} {{user_id: $user_id}})
ON CREATE SET gate.version = ''
SET gate.writer = $token
WITH count(*) AS done
{_GATE}
UNWIND $jobs AS row
MERGE (j:{JOB_LABEL} {{user_id: $user_id, id: row.id}})
SET j += row
WITH count(*) AS done
{_GATE}
UNWIND $episodes AS row
MERGE {node("n", "Episode", "row.id")}
ON CREATE SET n += row.props
WITH count(*) AS done
{_GATE}
UNWIND $entities AS row
MERGE {node("n", "Entity", "row.id")}
ON CREATE SET n.write_token = $token
SET n += row.props
WITH count(*) AS done
{_GATE}
UNWIND $facts AS row
MERGE {node("n", "Fact", "row.id")}
SET n += row.props
WITH n
OPTIONAL MATCH (n)-[old:SUBJECT_OF|OBJECT|FROM]-()
DELETE old
WITH DISTINCT n
OPTIONAL MATCH {node("s", "Entity", "n.subject_id")}
{_some("s")} MERGE (s)-{rel("SUBJECT_OF")}->(n))
WITH DISTINCT n
OPTIONAL MATCH {node("o", "Entity", "n.object_id")}
{_some("o")} MERGE (n)-{rel("OBJECT")}->(o))
WITH DISTINCT n
UNWIND CASE WHEN size(n.episode_ids) = 0 THEN [null] ELSE n.episode_ids END AS ep_id
OPTIONAL MATCH {node("ep", "Episode", "ep_id")}
{_some("ep")} MERGE (n)-{rel("FROM")}->(ep))
WITH count(*) AS done
{_GATE}
UNWIND $entity_ids AS eid
MATCH {node("e", "Entity", "eid")}
WHERE e.write_token = $token
REMOVE e.write_token
WITH e
OPTIONAL MATCH {node("f", "Fact")}
WHERE f.subject_id = e.id
{_some("f")} MERGE (e)-{rel("SUBJECT_OF")}->(f))
WITH DISTINCT e
OPTIONAL MATCH {node("f", "Fact")}
WHERE f.object_id = e.id
{_some("f")} MERGE (f)-{rel("OBJECT")}->(e)){set_vectors}
WITH count(*) AS done
{_GATE}
SET gate.version = $token
RETURN gate.version AS version
"""
        self.existing = {
            label: f"""
MATCH {node("n", label)}
WHERE n.id IN $ids
RETURN n.id AS id
"""
            for label in LABELS
        }
        # ``WHERE n.id IN $ids`` is one index scan on FalkorDB; ``UNWIND`` + a keyed MATCH
        # is one scan per id (measured 1 ms against 19 ms for 50 ids).
        self.get = {
            label: f"""
MATCH {node("n", label)}
WHERE n.id IN $ids
RETURN {project("n", label)}
"""
            for label in LABELS
        }
        self.get_embeddings = {
            label: f"""
MATCH {node("n", label)}
WHERE n.id IN $ids AND n.{VECTOR_PROP} IS NOT NULL
RETURN n.id AS id, n.{VECTOR_PROP} AS vec
"""
            for label in LABELS
        }
        self.delete_facts = f"""
MATCH {node("n", "Fact")}
WHERE n.id IN $ids
DETACH DELETE n
WITH count(*) AS deleted
OPTIONAL MATCH (gate:{VERSION_LABEL} {{user_id: $user_id}})
WITH deleted, CASE WHEN deleted > 0 THEN gate END AS gate
{_some("gate")} SET gate.version = $token)
RETURN deleted
"""
        self.write_version = (
            f"MATCH (gate:{VERSION_LABEL} {{user_id: $user_id}}) RETURN gate.version AS version"
        )
        # The same read under the version node's write lock (``Dialect.lock_to_read_version``):
        # SET before the read, so the read waits for a writer of this user to finish.
        self.write_version_locked = f"""
MATCH (gate:{VERSION_LABEL} {{user_id: $user_id}})
SET gate.reader = $token
RETURN gate.version AS version
"""
        # Extraction jobs (memory_graph.jobs): a node each, its JSON in ``record``.
        self.find_jobs = f"""
MATCH (j:{JOB_LABEL})
WHERE ($user_id IS NULL OR j.user_id = $user_id) AND j.status IN $statuses
  AND ($ids IS NULL OR j.id IN $ids)
RETURN j.record AS record
ORDER BY j.created_at, j.id
LIMIT $limit
"""
        # Everything of a user in ONE statement (atomic on both servers): memory, jobs,
        # threads and the write version go together or not at all. Facts first: their
        # relationships go with them. OPTIONAL MATCH keeps one row when a label has none.
        forget_parts = (
            ("Fact", "facts"),
            ("Entity", "entities"),
            ("Episode", "episodes"),
            (JOB_LABEL, "jobs"),
            (CHECKPOINT_WRITE_LABEL, "writes"),
            (CHECKPOINT_LABEL, "checkpoints"),
            (VERSION_LABEL, "versions"),
        )
        clauses: list[str] = []
        kept: list[str] = []
        for label, key in forget_parts:
            clauses.append(
                f"OPTIONAL MATCH (n:{label} {{user_id: $user_id}})\nDETACH DELETE n\n"
                f"WITH {''.join(k + ', ' for k in kept)}count(n) AS {key}"
            )
            kept.append(key)
        self.forget = "\n".join(clauses) + "\nRETURN " + ", ".join(kept)
        self.find_entities = f"""
MATCH {node("n", "Entity")}
WHERE any(k IN n.name_keys WHERE k IN $keys)
RETURN {project("n", "Entity")}
ORDER BY n.id
"""
        self.list_entities = f"""
MATCH {node("n", "Entity")}
RETURN {project("n", "Entity")}
ORDER BY n.id
LIMIT $limit
"""
        self.session_episodes = f"""
MATCH {node("n", "Episode")}
WHERE n.session_id = $session_id
RETURN {project("n", "Episode")}
ORDER BY n.occurred_at DESC, n.id DESC
LIMIT $limit
"""
        # Several sessions in one statement (the retriever asks for many at once).
        self.sessions_episodes = f"""
MATCH {node("n", "Episode")}
WHERE n.session_id IN $sessions
WITH n ORDER BY n.occurred_at DESC, n.id DESC
WITH n.session_id AS sid, collect(n)[..$limit] AS recent
UNWIND recent AS n
RETURN {project("n", "Episode")}
"""
        # The turns around some episodes: each one's session walked in order on the server,
        # only the slice around the episode sent back (not the session's thousands of turns).
        self.episodes_around = f"""
MATCH {node("c", "Episode")}
WHERE c.id IN $ids AND c.session_id IS NOT NULL
MATCH {node("n", "Episode")}
WHERE n.session_id = c.session_id
WITH c, n ORDER BY n.occurred_at, n.id
WITH c, collect(n) AS run
WITH c, run, [i IN range(0, size(run) - 1) WHERE run[i].id = c.id][0] AS at
UNWIND run[(CASE WHEN at < $before THEN 0 ELSE at - $before END)..(at + $after + 1)] AS n
RETURN c.id AS center, {project("n", "Episode")}
"""
        self.no_session_episodes = f"""
MATCH {node("n", "Episode")}
WHERE n.session_id IS NULL
RETURN {project("n", "Episode")}
ORDER BY n.occurred_at DESC, n.id DESC
LIMIT $limit
"""
        # Newest first within a hop, as every backend ranks a hub's many facts.
        self.touching = f"""
CALL {{
  MATCH {node("n", "Fact")} WHERE n.subject_id IN $ids RETURN n
  UNION
  MATCH {node("n", "Fact")} WHERE n.object_id IN $ids RETURN n
}}
WITH n WHERE NOT n.id IN $exclude
RETURN {project("n", "Fact")}
ORDER BY coalesce(n.valid_at, n.recorded_at) DESC, n.recorded_at DESC, n.id
LIMIT $limit
"""
        self.users = " UNION ".join(
            f"MATCH (n:{label}) RETURN DISTINCT n.user_id AS user_id" for label in LABELS
        )
        self.count_all = {label: f"MATCH (n:{label}) RETURN count(n) AS n" for label in LABELS}
        self.count_user = {
            label: f"MATCH {node('n', label)} RETURN count(n) AS n" for label in LABELS
        }
        export_order = {"Episode": "n.occurred_at, n.id", "Entity": "n.id", "Fact": "n.id"}
        self.export_page = {
            label: f"""
MATCH {node("n", label)}
RETURN {project("n", label)}
ORDER BY {export_order[label]}
SKIP $skip LIMIT $limit
"""
            for label in LABELS
        }
        # The full-text index finds candidate nodes; the store ranks them with BM25 over the
        # returned (pre-tokenised) text, the formula of SQLite's FTS5, so every backend ranks
        # alike (RediSearch's and Lucene's own scores and analysers differ). The candidates
        # come back as one row of two lists: on FalkorDB, 2,000 candidates as rows took 6.4 /
        # 30.5 ms p50 / p95 to arrive, as two lists 4.7 / 5.7 ms. At most $limit of them, the
        # newest (the scoring window, ``_ranking.SCORE_WINDOW``).
        self.fulltext = {
            target: f"""
{dialect.fulltext_call(label, TEXT_PROP)}
WITH node AS n WHERE n.user_id = $user_id
WITH n ORDER BY n.{NEWEST[label]} DESC, n.id DESC LIMIT $limit
RETURN collect(n.id) AS ids, collect(n.{TEXT_PROP}) AS texts
"""
            for target, label in SEARCHABLE.items()
        }
        self.fulltext_count = {
            target: f"""
{dialect.fulltext_call(label, TEXT_PROP)}
WITH node AS n WHERE n.user_id = $user_id
WITH n LIMIT $limit
RETURN count(n) AS n
"""
            for target, label in SEARCHABLE.items()
        }
        self.text_stats = {
            target: f"""
MATCH {node("n", label)}
RETURN count(n) AS docs, sum(n.{TEXT_LEN_PROP}) AS words
"""
            for target, label in SEARCHABLE.items()
        }
        self.vector = {
            target: f"""
{dialect.vector_call(label, VECTOR_PROP)}
WITH node, {dialect.index_score("node", VECTOR_PROP)} AS score
RETURN node.id AS id, score, node.user_id = $user_id AS mine
"""
            for target, label in SEARCHABLE.items()
        }
        exact_order = "ASC" if dialect.name == "falkordb" else "DESC"
        self.vector_exact = {
            target: f"""
MATCH {node("n", label)}
WHERE n.{VECTOR_PROP} IS NOT NULL
WITH n, {dialect.exact_similarity("n", VECTOR_PROP)} AS score
RETURN n.id AS id, score
ORDER BY score {exact_order}, id
LIMIT $k
"""
            for target, label in SEARCHABLE.items()
        }
        self.count_label = {label: f"MATCH (n:{label}) RETURN count(n) AS n" for label in LABELS}
        # Schema upgrades walk every user's records (the one place a query spans users).
        self.scan_text = {
            label: f"""
MATCH (n:{label})
RETURN n.user_id AS user_id, n.id AS id, n.{TEXT_PROP} AS text
ORDER BY user_id, id
SKIP $skip LIMIT $limit
"""
            for label in LABELS
        }
        self.set_text = {
            label: f"""
UNWIND $rows AS r
MATCH (n:{label} {{user_id: r.user_id, id: r.id}})
SET n.{TEXT_PROP} = r.text
"""
            for label in LABELS
        }
        # -- thread state (``stores.threads``): dialect-neutral Cypher -------------------------
        cp, cw = CHECKPOINT_LABEL, CHECKPOINT_WRITE_LABEL
        thread = "{thread_id: $thread_id, ns: $ns}"
        # Store the checkpoint, then delete the thread's checkpoints beyond the newest $keep
        # and the writes of every checkpoint not kept, in the same statement. Checkpoint ids
        # sort by time (uuid6).
        self.checkpoint_put = f"""
MERGE (c:{cp} {{thread_id: $thread_id, ns: $ns, id: $id}})
SET c.user_id = $user_id, c.parent_id = $parent_id, c.type = $type, c.blob = $blob,
    c.metadata = $metadata
WITH count(*) AS done
MATCH (c:{cp} {thread})
WITH c.id AS id ORDER BY id DESC
WITH collect(id) AS ids
WITH ids[..$keep] AS kept, ids[$keep..] AS old
OPTIONAL MATCH (w:{cw} {thread})
WHERE NOT w.checkpoint_id IN kept
DELETE w
WITH DISTINCT old
OPTIONAL MATCH (c:{cp} {thread})
WHERE c.id IN old
DELETE c
RETURN count(c) AS pruned
"""
        writes_key = (
            f"(w:{cw} {{thread_id: $thread_id, ns: $ns, checkpoint_id: $checkpoint_id, "
            "task_id: r.task_id, idx: r.idx})"
        )
        write_props = (
            "w.user_id = $user_id, w.task_path = r.task_path, w.channel = r.channel, "
            "w.type = r.type, w.blob = r.blob"
        )
        self.checkpoint_writes_keep = (
            f"UNWIND $rows AS r\nMERGE {writes_key}\nON CREATE SET {write_props}"
        )
        self.checkpoint_writes_replace = f"UNWIND $rows AS r\nMERGE {writes_key}\nSET {write_props}"
        self.checkpoint_list = {
            by_thread: f"""
MATCH (c:{cp}{" {thread_id: $thread_id}" if by_thread else ""})
WHERE ($ns IS NULL OR c.ns = $ns) AND ($id IS NULL OR c.id = $id)
  AND ($before IS NULL OR c.id < $before)
WITH c ORDER BY c.id DESC LIMIT $limit
OPTIONAL MATCH (w:{cw} {{thread_id: c.thread_id, ns: c.ns, checkpoint_id: c.id}})
WITH c, collect([w.task_id, w.task_path, w.idx, w.channel, w.type, w.blob]) AS writes
RETURN c.thread_id AS thread_id, c.ns AS ns, c.id AS id, c.parent_id AS parent_id,
       c.type AS type, c.blob AS blob, c.metadata AS metadata, writes
ORDER BY id DESC
"""
            for by_thread in (True, False)
        }
        self.checkpoint_delete_thread = f"""
OPTIONAL MATCH (w:{cw} {{thread_id: $thread_id}})
DELETE w
WITH count(*) AS done
OPTIONAL MATCH (c:{cp} {{thread_id: $thread_id}})
DELETE c
RETURN count(c) AS deleted
"""
        self.read_meta = f"MATCH (m:{META_LABEL} {{key: 'schema'}}) RETURN m.version AS version"
        self.write_meta = (
            f"MERGE (m:{META_LABEL} {{key: 'schema'}}) SET m.version = $version RETURN m.version"
        )

    def find_facts(self, where: list[str], newest_first: bool = False) -> str:
        """Facts matching fixed WHERE fragments (see ``store._fact_filter``), ordered oldest
        first, or newest first (``FactQuery.newest_first``)."""
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        desc = " DESC" if newest_first else ""
        return f"""
MATCH {node("n", "Fact")}
{clause}
RETURN {project("n", "Fact")}
ORDER BY coalesce(n.valid_at, n.recorded_at){desc}, n.recorded_at{desc}, n.id{desc}
LIMIT $limit
"""
