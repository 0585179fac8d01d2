"""The inspector page in headless Chromium: graph, timeline, as-of and provenance render.

Starts ``memlane serve`` on a free loopback port over a seeded SQLite store and drives
Debian's Chromium (never a downloaded browser). Skipped only when Chromium is not installed.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store
from tests.tools_support.processes import memlane_env, serving
from tests.tools_support.seed import seed_large_user, seed_user

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BIG_FACTS = 3_000
SCREENSHOT = Path("/tmp/inspector-3000.png")  # kept after the run, for a person to look at

requires_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make browser)"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``memlane serve`` over a store with Alice, Bob and a 3,000-fact user; yields its URL."""
    db = tmp_path / "inspect.db"

    async def seed() -> None:
        async with open_store(f"sqlite:///{db}") as store:
            memory = Memory(store, HashEmbedder())
            await seed_user(memory, "bob", name="Bob")
            await seed_user(memory, "alice")
            await seed_large_user(store, "big", facts=BIG_FACTS)

    asyncio.run(seed())
    with serving(memlane_env(db)) as base:
        yield base


@asynccontextmanager
async def _page() -> AsyncIterator[tuple[Any, list[str]]]:
    """A page of headless Debian Chromium, and the page errors it reports."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 860})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            yield page, errors
        finally:
            await browser.close()


@requires_chromium
async def test_inspector_renders_graph_timeline_and_provenance(server: str, tmp_path: Path) -> None:
    async with _page() as (page, errors):
        await page.goto(f"{server}/inspect/alice")
        await page.wait_for_selector("body[data-ready='true']", timeout=20_000)

        counts = await page.evaluate(
            "() => ({nodes: window.memlaneInspector.cy.nodes().length,"
            " edges: window.memlaneInspector.cy.edges().length})"
        )
        # Now: Berlin, Acme, Rex, sushi (a value node) and the user; four facts.
        assert counts == {"nodes": 5, "edges": 4}
        assert await page.locator("#graph canvas").count() > 0
        items = page.locator("#timeline li")
        assert await items.count() == 6  # 5 starts + Paris ended
        assert "Berlin" in (await items.first.inner_text())
        assert "Bob" not in await page.content()

        # Click an edge on the canvas: the provenance panel shows its source message.
        point = await page.evaluate(
            """() => {
              const cy = window.memlaneInspector.cy;
              const edge = cy.edges().filter(e => e.data('label') === 'lives_in')[0];
              const mid = edge.renderedMidpoint();
              const box = document.getElementById('graph').getBoundingClientRect();
              return {x: box.left + mid.x, y: box.top + mid.y};
            }"""
        )
        await page.mouse.click(point["x"], point["y"])
        panel = page.locator("#provenance")
        await panel.wait_for(state="visible", timeout=10_000)
        text = await panel.inner_text()
        assert "I just moved to Berlin" in text and "Replaced" in text and "Paris" in text

        await page.screenshot(path=str(tmp_path / "inspector.png"), full_page=True)
        await page.screenshot(path="/tmp/inspector.png", full_page=True)

        # As of mid-2023 the graph shows Paris, not Berlin.
        await page.fill("#asof", "2023-07-01")
        await page.click("#asof-form button[type=submit]")
        await page.wait_for_function(
            "() => window.memlaneInspector.cy.nodes().some(n => n.data('label') === 'Paris')",
            timeout=10_000,
        )
        labels = await page.evaluate(
            "() => window.memlaneInspector.cy.nodes().map(n => n.data('label'))"
        )
        assert "Berlin" not in labels

        # A timeline entry opens the provenance of a fact too.
        await page.locator("#timeline li", has_text="sushi").first.click()
        await page.wait_for_function(
            "() => document.getElementById('provenance-body').innerText.includes('sushi')"
        )
        assert errors == []


@requires_chromium
async def test_a_3000_fact_user_renders_a_readable_capped_view(server: str, tmp_path: Path) -> None:
    """The page loads a user with 3,000 facts through the server's cap, then filters."""
    async with _page() as (page, errors):
        began = time.monotonic()
        await page.goto(f"{server}/inspect/big")
        await page.wait_for_selector("body[data-ready='true']", timeout=120_000)
        load_s = time.monotonic() - began
        summary = await page.locator("#summary").inner_text()
        counts = await page.evaluate(
            "() => ({nodes: window.memlaneInspector.cy.nodes().length,"
            " edges: window.memlaneInspector.cy.edges().length})"
        )
        await page.screenshot(path=str(tmp_path / "inspector-3000.png"))
        await page.screenshot(path=str(SCREENSHOT))
        print(f"inspector, {BIG_FACTS} facts: loaded in {load_s:.2f}s, {counts}, {summary!r}")
        # The default view is capped (readable), and says how much it left out.
        assert counts["nodes"] <= 120 and 100 <= counts["edges"] <= 120
        assert "of 2700 facts" in summary and "most relevant first" in summary
        # Every predicate is in the filter list, with its count.
        options = await page.locator("#predicate option").all_inner_texts()
        assert "knows (300)" in options and len(options) == 9

        # The search box narrows on the server: only the facts with those words are drawn.
        await page.fill("#q", "Fact 1234:")
        await page.click("#filter-form button[type=submit]")
        await page.wait_for_function(
            "() => document.getElementById('summary').innerText.startsWith('showing 1 of 1 ')",
            timeout=30_000,
        )
        assert await page.evaluate("() => window.memlaneInspector.cy.edges().length") == 1
        # Clicking an entity focuses the view on the facts that touch it.
        await page.fill("#q", "")
        await page.click("#filter-form button[type=submit]")
        await page.wait_for_function(
            "() => !document.getElementById('summary').innerText.startsWith('showing 1 of')"
        )
        target = await page.evaluate(
            """() => {
              const cy = window.memlaneInspector.cy;
              const node = cy.nodes('.entity').filter(n => n.id() !== 'e:self')[0];
              const pos = node.renderedPosition();
              const box = document.getElementById('graph').getBoundingClientRect();
              return {x: box.left + pos.x, y: box.top + pos.y, name: node.data('label')};
            }"""
        )
        await page.mouse.click(target["x"], target["y"])
        await page.wait_for_selector("#entity-chip:not([hidden])", timeout=30_000)
        await page.wait_for_function(
            "(name) => window.memlaneInspector.cy.edges().length > 0 && "
            "window.memlaneInspector.cy.edges().every("
            "e => e.source().data('label') === name || e.target().data('label') === name)",
            arg=target["name"],
            timeout=30_000,
        )
        assert errors == []
