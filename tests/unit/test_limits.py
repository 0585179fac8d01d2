"""One set of limits: what a boundary accepts, the layers below it accept too."""

from __future__ import annotations

from pathlib import Path

import pytest

from memlane.memory_graph.limits import MAX_CONTENT_CHARS, MAX_QUERY_CHARS
from memlane.tools.specs import SearchArgs
from tests.tools_support.app import served

pytestmark = pytest.mark.unit


async def test_the_longest_chat_message_is_answered_not_refused(tmp_path: Path) -> None:
    # Used to be accepted by the route and then refused (400) by recall's query limit.
    message = ("I keep bees on the roof. " * 2000)[: MAX_CONTENT_CHARS - 5] + " Why?"
    assert len(message) == MAX_CONTENT_CHARS
    async with served(tmp_path, with_agent=True) as (client, _):
        res = await client.post("/users/ana/chat", json={"message": message}, timeout=120)
        assert res.status_code == 200, res.text
        assert res.json()["write_status"] == "committed"
        too_long = await client.post("/users/ana/chat", json={"message": message + "x"})
        assert too_long.status_code == 422


async def test_search_has_the_same_query_limit_on_http_tools_and_memory(tmp_path: Path) -> None:
    query = "bees " * (MAX_QUERY_CHARS // 5)
    assert len(query) == MAX_QUERY_CHARS
    assert SearchArgs.model_fields["query"].metadata[-1].max_length == MAX_QUERY_CHARS
    async with served(tmp_path) as (client, memory):
        assert (await client.get("/users/ana/search", params={"q": query})).status_code == 200
        context = await memory.recall("ana", query)
        assert context.facts == []
        over = await client.get("/users/ana/search", params={"q": query + "x"})
        assert over.status_code == 422
