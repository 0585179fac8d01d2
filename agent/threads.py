"""Thread state kept with the user's memory: LangGraph checkpoints in the user's store.

A thread has the memory's lifecycle: the store's ``forget_user`` deletes the user's
checkpoints in the same transaction as the user's facts (threads are ``user|session``, see
:func:`thread_owner`). Every store keeps threads through the same five operations
(:class:`~memlane.memory_graph.stores.threads.ThreadStore`: put a checkpoint pruned to the
newest ``keep``, put pending writes, get, list, delete a thread), and one checkpointer,
:class:`StoreCheckpointSaver`, is LangGraph's :class:`BaseCheckpointSaver` over them. Where
the threads live (:func:`open_threads`):

- **the store itself** (the default): the SQLite store's own file (its ``secure_delete`` and
  the WAL truncated after a forget cover the transcripts too; writes wait for another
  process's write lock like every write of the store), or a graph server's graph (FalkorDB,
  Neo4j), so every process over the same store sees the same threads and a session may move
  between them;
- ``Settings.checkpoint_db`` (or a store that keeps no threads): a SQLite store of their
  own in that file (``threads.db`` in the user data directory for the latter), whose
  ``forget_user`` :func:`forget_threads_beside` calls.

Every super-step of every turn writes a full checkpoint and only the newest is read again
(resuming reads the latest), so a thread keeps ``keep_checkpoints``: the store deletes the
older ones, with their pending writes, as each new one is stored.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
    writes_sort_key,
)
from platformdirs import user_data_dir

from memlane.memory_graph.ids import THREAD_SEPARATOR, check_id, check_user_id, thread_owner
from memlane.memory_graph.stores import GraphStore
from memlane.memory_graph.stores.sqlite import SQLiteStore
from memlane.memory_graph.stores.threads import (
    CheckpointRow,
    StoredCheckpoint,
    ThreadStore,
    WriteRow,
)

__all__ = [
    "StoreCheckpointSaver",
    "forget_threads",
    "forget_threads_beside",
    "open_threads",
    "thread_id",
    "thread_owner",
    "thread_owner_prefix",
    "threads_file",
]


def thread_id(user_id: str, session_id: str | None) -> str:
    """The LangGraph thread of a user's session: ``user|session`` (``default`` without one).

    ``|`` is in neither the user id nor the session id alphabet, so the owner of a thread is
    unambiguous even though ids may contain ``/``.
    """
    check_user_id(user_id)
    session = check_id(session_id, "session_id") if session_id is not None else "default"
    return f"{user_id}{THREAD_SEPARATOR}{session}"


def thread_owner_prefix(user_id: str) -> str:
    """What every thread id of ``user_id`` starts with (and no other user's does)."""
    return f"{check_user_id(user_id)}{THREAD_SEPARATOR}"


def threads_file(store: GraphStore, override: str | None = None) -> Path | None:
    """The SQLite file of a store's threads when they are not kept in the store itself:
    ``override`` (unless it is the SQLite store's own file); None when the store keeps them
    (every memlane store); else ``threads.db`` in the user data directory."""
    if override:
        path = Path(override).expanduser()
        if isinstance(store, SQLiteStore) and path.resolve() == store.path.resolve():
            return None
        return path
    if isinstance(store, ThreadStore):
        return None
    return Path(user_data_dir("memlane")) / "threads.db"


async def _open_file(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    await store.open()
    return store


class StoreCheckpointSaver(BaseCheckpointSaver[str]):
    """LangGraph's checkpointer over a store's thread primitives (every memlane store).

    The store holds the rows (:class:`~memlane.memory_graph.stores.threads.ThreadStore`);
    this class is LangGraph's side: serialising with the saver's ``serde``, configs, pending
    writes in :func:`writes_sort_key` order. Every process over the same store (a graph
    server, a SQLite file) shares the threads. Asynchronous only (the agent runs its graphs
    with ``ainvoke``).

    Args:
        store: the store (opened by the caller).
        keep_checkpoints: checkpoints kept per thread (and namespace); older ones, with
            their pending writes, are deleted as each new one is stored. At least 1.
    """

    def __init__(self, store: ThreadStore, *, keep_checkpoints: int = 2) -> None:
        super().__init__()
        self.store = store
        self.keep_checkpoints = max(1, keep_checkpoints)

    def _tuple(self, stored: StoredCheckpoint) -> CheckpointTuple:
        row = stored.row
        where = {"thread_id": row.thread_id, "checkpoint_ns": row.namespace}
        writes = sorted(stored.writes, key=lambda w: writes_sort_key(w.task_path, w.task_id, w.idx))
        return CheckpointTuple(
            config={"configurable": {**where, "checkpoint_id": row.checkpoint_id}},
            checkpoint=self.serde.loads_typed((row.type, row.checkpoint)),
            metadata=json.loads(row.metadata) if row.metadata else {},
            parent_config=(
                {"configurable": {**where, "checkpoint_id": row.parent_id}}
                if row.parent_id
                else None
            ),
            pending_writes=[
                (w.task_id, w.channel, self.serde.loads_typed((w.type, w.value))) for w in writes
            ],
        )

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint the config names, or the thread's newest."""
        conf = config["configurable"]
        stored = await self.store.get_checkpoint(
            str(conf["thread_id"]), conf.get("checkpoint_ns", ""), get_checkpoint_id(config)
        )
        return self._tuple(stored) if stored is not None else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Checkpoints newest first (of the config's thread, or of every thread), whose
        metadata holds every key and value of ``filter``."""
        conf = config["configurable"] if config is not None else {}
        thread = conf.get("thread_id")
        rows = await self.store.list_checkpoints(
            None if thread is None else str(thread),
            conf.get("checkpoint_ns"),
            checkpoint_id=conf.get("checkpoint_id"),
            before=get_checkpoint_id(before) if before is not None else None,
            limit=None if filter else limit,
        )
        given = 0
        for stored in rows:
            found = self._tuple(stored)
            meta = cast(dict[str, Any], found.metadata)
            if filter and any(meta.get(k) != v for k, v in filter.items()):
                continue
            if limit is not None and given >= limit:
                return
            given += 1
            yield found

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint; the store deletes the thread's older ones beyond the kept."""
        conf = config["configurable"]
        thread, namespace = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        type_, blob = self.serde.dumps_typed(checkpoint)
        meta = json.dumps(get_checkpoint_metadata(config, metadata), ensure_ascii=False)
        row = CheckpointRow(
            thread_id=thread,
            namespace=namespace,
            checkpoint_id=checkpoint["id"],
            parent_id=conf.get("checkpoint_id"),
            type=type_,
            checkpoint=blob,
            metadata=meta.encode("utf-8", "ignore"),
        )
        await self.store.put_checkpoint(thread_owner(thread), row, keep=self.keep_checkpoints)
        return {
            "configurable": {
                "thread_id": thread,
                "checkpoint_ns": namespace,
                "checkpoint_id": checkpoint["id"],
            }
        }

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's pending writes (special ones replace, others keep the first)."""
        conf = config["configurable"]
        thread = str(conf["thread_id"])
        rows = [
            WriteRow(task_id, task_path, WRITES_IDX_MAP.get(channel, idx), channel, *dumped)
            for idx, (channel, value) in enumerate(writes)
            for dumped in [self.serde.dumps_typed(value)]
        ]
        await self.store.put_checkpoint_writes(
            thread_owner(thread),
            thread,
            str(conf.get("checkpoint_ns", "")),
            str(conf["checkpoint_id"]),
            rows,
            replace=all(w[0] in WRITES_IDX_MAP for w in writes),
        )

    async def adelete_thread(self, thread_id: str) -> None:
        """Delete a thread's checkpoints and writes."""
        await self.store.delete_thread(str(thread_id))

    def get_next_version(self, current: str | int | float | None, channel: None) -> str:
        """Monotonic channel versions as LangGraph's SQLite and Postgres savers write them
        (``<counter>.<random>``), so a thread reads the same whichever saver wrote it."""
        if current is None:
            counter = 0
        elif isinstance(current, (int, float)):
            counter = int(current)
        else:
            counter = int(current.split(".")[0])
        return f"{counter + 1:032}.{random.random():016}"


async def open_threads(
    store: GraphStore, override: str | None = None, *, keep_checkpoints: int = 2
) -> tuple[StoreCheckpointSaver, GraphStore | None]:
    """The checkpointer of ``store``'s chat threads (see the module docstring for where).

    Returns:
        the saver, and the store of a file of the threads' own that the caller closes (None
        when ``store`` keeps them itself).
    """
    path = threads_file(store, override)
    if path is None:
        saver = StoreCheckpointSaver(cast(ThreadStore, store), keep_checkpoints=keep_checkpoints)
        return saver, None
    own = await _open_file(path)
    return StoreCheckpointSaver(own, keep_checkpoints=keep_checkpoints), own


async def forget_threads(
    saver: BaseCheckpointSaver[Any], user_id: str, *, store: GraphStore | None = None
) -> int:
    """Delete every thread of ``user_id`` from any LangGraph checkpointer.

    Args:
        saver: the checkpointer.
        user_id: whose threads.
        store: the memory's store, whose ``forget_user`` deletes the threads it keeps itself
            (nothing is left to do for a saver over it).

    Returns:
        the checkpoints (a saver over a store) or threads (any other saver) deleted.
    """
    if isinstance(saver, StoreCheckpointSaver):
        if saver.store is store:
            return 0  # the store's forget_user deleted them with the memory
        if isinstance(saver.store, GraphStore):
            # A store of the threads' own: its forget_user is the one atomic delete by owner.
            return (await saver.store.forget_user(check_user_id(user_id))).get("checkpoints", 0)
    prefix = thread_owner_prefix(user_id)
    threads = {
        t.config["configurable"]["thread_id"]
        async for t in saver.alist(None)
        if str(t.config["configurable"].get("thread_id", "")).startswith(prefix)
    }
    for thread in threads:
        await saver.adelete_thread(thread)
    return len(threads)


async def forget_threads_beside(store: GraphStore, override: str | None, user_id: str) -> int:
    """Delete ``user_id``'s threads kept outside the store (``Settings.checkpoint_db``, or
    the data directory's file of a store that keeps none); the store's ``forget_user``
    deletes those it keeps itself.

    Returns:
        the checkpoints deleted (0 when there is no such file).
    """
    path = threads_file(store, override)
    if path is None or not path.exists():
        return 0
    own = await _open_file(path)
    try:
        return (await own.forget_user(check_user_id(user_id))).get("checkpoints", 0)
    finally:
        await own.close()
