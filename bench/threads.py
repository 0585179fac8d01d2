"""Bytes a chat turn adds to the thread store: LangGraph's stock SQLite saver vs memlane's.

Runs the same offline conversation twice on fresh stores: once with the stock
``AsyncSqliteSaver`` in a file of its own (the old layout), once with the default thread
store (``memlane.agent.threads``: the store's own thread tables in its file, pruned, bounded
history). Prints JSON with the checkpoint bytes (checkpoint, metadata and pending-write blobs)
per turn over the second half of the run, when a thread is in its steady state, and the ratio.

    .venv/bin/python bench/threads.py --turns 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from memlane.agent.api import MemoryAgent
from memlane.agent.settings import Settings

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
SAY = [
    "I live in Lisbon and work as a nurse.",
    "My sister Ana has a dog called Rex.",
    "I started learning the cello last spring.",
    "I moved to Porto last month.",
    "I love sushi but I stopped eating meat.",
]


def _thread_bytes(db: Path, *, stock: bool) -> int:
    """Checkpoint and pending-write bytes: in LangGraph's tables (stock), or the store's."""
    checkpoints, writes = (
        ("checkpoints", "writes") if stock else ("thread_checkpoints", "thread_writes")
    )
    with sqlite3.connect(db) as conn:
        (cp,) = conn.execute(
            f"SELECT coalesce(sum(length(checkpoint) + length(metadata)), 0) FROM {checkpoints}"
        ).fetchone()
        (wr,) = conn.execute(f"SELECT coalesce(sum(length(value)), 0) FROM {writes}").fetchone()
    return int(cp + wr)


async def _run(folder: Path, turns: int, *, stock: bool) -> dict[str, float]:
    settings = Settings(store=f"sqlite:///{folder / 'memory.db'}", embedder="hash")
    threads = folder / ("memory.threads.db" if stock else "memory.db")
    conn = await aiosqlite.connect(str(threads)) if stock else None
    saver = AsyncSqliteSaver(conn) if conn is not None else None
    sizes: list[int] = []
    async with MemoryAgent(settings=settings, checkpointer=saver) as agent:
        for i in range(turns):
            text = f"{SAY[i % len(SAY)]} (turn {i})"
            await agent.achat("bench", text, at=T0 + timedelta(hours=i))
            sizes.append(_thread_bytes(threads, stock=stock))
    if conn is not None:
        await conn.close()
    half = turns // 2
    per_turn = (sizes[-1] - sizes[half - 1]) / (turns - half)
    return {"bytes_per_turn": per_turn, "bytes_total": sizes[-1]}


async def main(turns: int) -> dict[str, object]:
    out: dict[str, object] = {"turns": turns}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        out["stock_saver"] = await _run(Path(a), turns, stock=True)
        out["memlane_threads"] = await _run(Path(b), turns, stock=False)
    stock = out["stock_saver"]["bytes_total"]  # type: ignore[index]
    ours = out["memlane_threads"]["bytes_total"]  # type: ignore[index]
    out["total_ratio_stock_over_memlane"] = round(stock / max(ours, 1), 1)
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=60)
    print(json.dumps(asyncio.run(main(parser.parse_args().turns)), indent=2))
