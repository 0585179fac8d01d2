"""``Memory``: the Python API of the memory graph (no LLM): ingest, recall, inspect, forget.

One async core. The agent (``agent.MemoryAgent``), the tools layer, the CLI and the
evaluations all go through this class, so every path shares reconciliation and retrieval.

CONTRACT (skeleton; bodies are filled by the foundation work):

* ``add_episodes(episodes)`` -> ``CommitReport``: store messages (no extraction), embedded,
  idempotent by ``(user_id, id)``.
* ``commit(user_id, drafts, episodes=())`` -> ``CommitReport``: reconcile drafts against the
  user's graph (entity resolution, predicate canonicalisation, ``temporal.resolve``) and apply
  episodes + entities + facts as ONE atomic write set. Bring-your-own facts and the agent's
  extraction both use it.
* ``candidates(user_id, text, k)`` -> ``list[Fact]``: existing facts an extraction prompt
  should see for ``text`` (current first, capped at ``k``).
* ``recall(user_id, query, as_of=None, preset=None, token_budget=None)`` -> ``MemoryContext``.
* ``facts(user_id, as_of=None, subject=None, predicate=None, current_only=...)``,
  ``history(user_id, subject, predicate)``, ``profile``-style reads, ``forget(user_id)``,
  ``export(user_id)``, ``import_records(records)``.
"""
