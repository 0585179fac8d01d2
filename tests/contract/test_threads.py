"""Thread state in the store (``stores.threads.ThreadStore``): checkpoints kept, pruned,
listed, deleted, and forgotten with their user.

Runs on every backend: each keeps threads itself through these operations, which the
agent's one checkpointer (``agent.threads.StoreCheckpointSaver``) is built on.
"""

from __future__ import annotations

import pytest

from memlane.memory_graph.stores import GraphStore
from memlane.memory_graph.stores.threads import (
    CheckpointRow,
    StoredCheckpoint,
    ThreadStore,
    WriteRow,
)
from tests.conftest import Sample

pytestmark = pytest.mark.contract


def _threads(store: GraphStore) -> ThreadStore:
    assert isinstance(store, ThreadStore), f"{type(store).__name__} keeps no threads"
    return store


def _row(thread: str, n: int, ns: str = "", parent: int | None = None) -> CheckpointRow:
    return CheckpointRow(
        thread_id=thread,
        namespace=ns,
        checkpoint_id=f"cp{n:03d}",
        parent_id=None if parent is None else f"cp{parent:03d}",
        type="msgpack",
        checkpoint=bytes([0, 255, n]) + f"checkpoint {n} of {thread}".encode(),
        metadata=b'{"step": %d}' % n,
    )


def _write(task: str, idx: int, value: bytes, channel: str = "history") -> WriteRow:
    return WriteRow(task, "~path", idx, channel, "msgpack", value)


async def test_the_newest_checkpoint_comes_back_whole_with_its_writes(store: GraphStore) -> None:
    threads = _threads(store)
    for n in (1, 2):
        await threads.put_checkpoint("alice", _row("alice|s1", n, parent=n - 1 or None), keep=5)
    await threads.put_checkpoint_writes(
        "alice",
        "alice|s1",
        "",
        "cp002",
        [_write("t1", 0, b"\x00a"), _write("t1", 1, b"b")],
        replace=False,
    )
    newest = await threads.get_checkpoint("alice|s1", "", None)
    assert newest is not None
    assert newest.row == _row("alice|s1", 2, parent=1)
    assert sorted(newest.writes, key=lambda w: w.idx) == [
        _write("t1", 0, b"\x00a"),
        _write("t1", 1, b"b"),
    ]
    first = await threads.get_checkpoint("alice|s1", "", "cp001")
    assert first is not None and first.row == _row("alice|s1", 1) and first.writes == ()
    assert await threads.get_checkpoint("alice|s1", "other-ns", None) is None
    assert await threads.get_checkpoint("alice|s2", "", None) is None


async def test_only_the_newest_checkpoints_and_their_writes_are_kept(store: GraphStore) -> None:
    threads = _threads(store)
    for n in range(1, 6):
        await threads.put_checkpoint("alice", _row("alice|s1", n), keep=2)
        await threads.put_checkpoint_writes(
            "alice", "alice|s1", "", f"cp{n:03d}", [_write("t", 0, b"w%d" % n)], replace=False
        )
    await threads.put_checkpoint("alice", _row("alice|s1", 1, ns="sub"), keep=2)
    kept = await threads.list_checkpoints("alice|s1", "")
    assert [c.row.checkpoint_id for c in kept] == ["cp005", "cp004"]
    # The writes of cp005 arrived after it was stored; cp004's survived the pruning.
    assert [[w.value for w in c.writes] for c in kept] == [[b"w5"], [b"w4"]]
    # Another namespace of the thread is pruned on its own.
    assert [c.row.checkpoint_id for c in await threads.list_checkpoints("alice|s1", "sub")] == [
        "cp001"
    ]


async def test_writes_keep_the_first_unless_replaced(store: GraphStore) -> None:
    threads = _threads(store)
    await threads.put_checkpoint("alice", _row("alice|s1", 1), keep=2)
    for value, replace in ((b"first", False), (b"second", False)):
        await threads.put_checkpoint_writes(
            "alice", "alice|s1", "", "cp001", [_write("t", 0, value)], replace=replace
        )
    got = await threads.get_checkpoint("alice|s1", "", None)
    assert got is not None and [w.value for w in got.writes] == [b"first"]
    await threads.put_checkpoint_writes(
        "alice", "alice|s1", "", "cp001", [_write("t", 0, b"error", "__error__")], replace=True
    )
    got = await threads.get_checkpoint("alice|s1", "", None)
    assert got is not None and [(w.channel, w.value) for w in got.writes] == [
        ("__error__", b"error")
    ]


async def test_listing_by_thread_namespace_before_and_limit(store: GraphStore) -> None:
    threads = _threads(store)
    for n in range(1, 5):
        await threads.put_checkpoint("alice", _row("alice|s1", n), keep=10)
    await threads.put_checkpoint("bob", _row("bob|s1", 9), keep=10)
    await threads.put_checkpoint(None, _row("their-own-graph", 7), keep=10)

    def ids(found: list[StoredCheckpoint]) -> list[str]:
        return [c.row.checkpoint_id for c in found]

    assert ids(await threads.list_checkpoints("alice|s1", None)) == [
        "cp004",
        "cp003",
        "cp002",
        "cp001",
    ]
    assert ids(await threads.list_checkpoints("alice|s1", "", before="cp003")) == ["cp002", "cp001"]
    assert ids(await threads.list_checkpoints("alice|s1", "", limit=1)) == ["cp004"]
    assert ids(await threads.list_checkpoints("alice|s1", "", checkpoint_id="cp002")) == ["cp002"]
    every = await threads.list_checkpoints(None, None)
    assert ids(every) == ["cp009", "cp007", "cp004", "cp003", "cp002", "cp001"]
    assert {c.row.thread_id for c in every} == {"alice|s1", "bob|s1", "their-own-graph"}


async def test_deleting_a_thread_leaves_the_others(store: GraphStore) -> None:
    threads = _threads(store)
    for thread in ("alice|s1", "alice|s2"):
        await threads.put_checkpoint("alice", _row(thread, 1), keep=2)
        await threads.put_checkpoint_writes(
            "alice", thread, "", "cp001", [_write("t", 0, b"x")], replace=False
        )
    assert await threads.delete_thread("alice|s1") == 1
    assert await threads.delete_thread("alice|s1") == 0
    assert await threads.list_checkpoints("alice|s1", None) == []
    left = await threads.list_checkpoints("alice|s2", None)
    assert len(left) == 1 and len(left[0].writes) == 1


async def test_forget_user_deletes_the_users_threads_with_the_memory(
    store: GraphStore, sample: Sample
) -> None:
    threads = _threads(store)
    for user in ("alice", "bob"):
        await store.apply(sample.turn(user, 0, facts=2))
    for user in ("alice", "bob"):
        for n in (1, 2):
            await threads.put_checkpoint(user, _row(f"{user}|s1", n), keep=5)
            await threads.put_checkpoint_writes(
                user, f"{user}|s1", "", f"cp{n:03d}", [_write("t", 0, b"x")], replace=False
            )
    deleted = await store.forget_user("alice")
    assert deleted == {"episodes": 1, "entities": 1, "facts": 2, "checkpoints": 2}
    assert await threads.list_checkpoints("alice|s1", None) == []
    assert len(await threads.list_checkpoints("bob|s1", None)) == 2
    assert all(c.writes for c in await threads.list_checkpoints("bob|s1", None))
