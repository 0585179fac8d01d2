"""The HTTP API: each route, error mapping, API key, body limits, OpenAPI and the page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from memlane.app.server import MAX_BODY_BYTES
from tests.tools_support.app import served
from tests.tools_support.seed import seed_user

pytestmark = pytest.mark.unit


async def test_reads(tmp_path: Path) -> None:
    async with served(tmp_path) as (client, memory):
        ids = await seed_user(memory, "alice")
        r = await client.get("/users/alice/profile")
        assert r.status_code == 200 and r.json()["count"] == 4
        r = await client.get("/users/alice/profile", params={"as_of": "2023-07-01"})
        assert {f["object"] for f in r.json()["facts"]["fact"]} == {"Paris", "Acme", "Rex"}
        r = await client.get("/users/alice/facts", params={"predicate": "lives_in"})
        assert [f["object"] for f in r.json()["facts"]] == ["Berlin"]
        r = await client.get("/users/alice/history", params={"predicate": "lives_in"})
        assert [f["status"] for f in r.json()["facts"]] == ["ended", "current"]
        r = await client.get(f"/users/alice/facts/{ids['lives_in:Berlin']}/why")
        assert r.json()["superseded"][0]["object"] == "Paris"
        assert r.json()["episodes"][0]["content"].startswith("I just moved to Berlin")
        r = await client.get("/users/alice/diff", params={"since": "2024-01-01"})
        assert [f["object"] for f in r.json()["ended"]] == ["Paris"]
        r = await client.get("/users/alice/graph")
        assert len(r.json()["facts"]) == 4 and r.json()["entities"]
        r = await client.get("/users/alice/timeline", params={"limit": 3})
        assert len(r.json()["events"]) == 3
        r = await client.get("/users/alice/export")
        assert r.headers["content-type"].startswith("application/x-ndjson")
        records = [json.loads(line) for line in r.text.splitlines()]
        assert {rec["type"] for rec in records} == {"episode", "entity", "fact"}


async def test_writes(tmp_path: Path) -> None:
    async with served(tmp_path) as (client, memory):
        ids = await seed_user(memory, "alice")
        r = await client.post("/users/alice/remember", json={"statement": "My badge is 77"})
        assert r.status_code == 200 and r.json()["fact"]["predicate"] == "note"
        r = await client.post(
            f"/users/alice/facts/{ids['works_at:Acme']}/correct", json={"value": "Globex"}
        )
        assert r.status_code == 200
        assert (r.json()["old"]["status"], r.json()["new"]["object"]) == ("retracted", "Globex")
        r = await client.delete(f"/users/alice/facts/{ids['likes:sushi']}")
        assert r.json()["deleted"] == {"facts": 1}
        r = await client.delete(f"/users/alice/facts/{ids['likes:sushi']}")
        assert r.status_code == 404 and r.json()["code"] == "not_found"
        r = await client.delete("/users/alice")
        assert r.status_code == 200 and r.json()["deleted"]["facts"] >= 5
        assert (await client.get("/users/alice/profile")).json()["count"] == 0


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("get", "/users/alice/profile", {"params": {"as_of": "soon"}}, 400, "invalid_input"),
        ("get", "/users/alice/facts", {"params": {"subject": "Nobody"}}, 404, "not_found"),
        ("get", "/users/alice/facts/f_missing/why", {}, 404, "not_found"),
        ("get", "/users/a%2Fb/profile", {}, 404, None),
        ("get", "/users/-bad/profile", {}, 422, "invalid_request"),
        ("get", "/users/alice/search", {}, 422, "invalid_request"),
        ("get", "/users/alice/diff", {"params": {"since": "2025-01-01", "until": "2024-01-01"}},
         400, "invalid_input"),
        ("post", "/users/alice/remember", {"json": {"statement": ""}}, 422, "invalid_request"),
        ("post", "/users/alice/remember", {"json": {"statement": "x", "user_id": "bob"}},
         422, "invalid_request"),
        ("post", "/users/alice/remember", {"content": b"{not json"}, 422, "invalid_request"),
        ("post", "/users/alice/chat", {"json": {"message": "hi"}}, 503, "store_error"),
        ("get", "/nowhere", {}, 404, "not_found"),
        ("put", "/users/alice/profile", {}, 405, "method_not_allowed"),
    ],
)  # fmt: skip
async def test_errors_are_json_with_codes(
    tmp_path: Path, method: str, path: str, kwargs: dict, status: int, code: str | None
) -> None:
    async with served(tmp_path) as (client, memory):
        await seed_user(memory, "alice")
        r = await client.request(method.upper(), path, **kwargs)
        assert r.status_code == status, r.text
        body = r.json()
        assert set(body) >= {"code", "message"}
        if code:
            assert body["code"] == code


async def test_body_limit(tmp_path: Path) -> None:
    async with served(tmp_path) as (client, _):
        big = b'{"statement": "' + b"x" * MAX_BODY_BYTES + b'"}'
        r = await client.post("/users/alice/remember", content=big)
        assert r.status_code == 413 and r.json()["code"] == "too_large"

        async def chunks():  # no Content-Length: the limit counts what arrives
            for _ in range(MAX_BODY_BYTES // 65536 + 2):
                yield b"x" * 65536

        r = await client.post("/users/alice/remember", content=chunks())
        assert r.status_code == 413
        r = await client.post("/users/alice/remember", json={"statement": "y" * 5000})
        assert r.status_code == 422


async def test_api_key(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cret-key-value"
    async with served(tmp_path, api_key=secret) as (client, memory):
        await seed_user(memory, "alice")
        r = await client.get("/users/alice/profile")
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
        r = await client.get("/users/alice/profile", headers={"X-API-Key": "wrong"})
        assert r.status_code == 401
        r = await client.get("/users/alice/profile", headers={"X-API-Key": secret})
        assert r.status_code == 200
        r = await client.get("/users/alice/profile", headers={"Authorization": f"Bearer {secret}"})
        assert r.status_code == 200
        r = await client.delete("/users/alice", headers={"X-API-Key": "wrong"})
        assert r.status_code == 401
        assert (await memory.facts("alice")) != []
        # The page shell and the health check hold no data and need no key.
        assert (await client.get("/inspect/alice")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200
    assert secret not in caplog.text


async def test_openapi_and_inspector_assets(tmp_path: Path) -> None:
    async with served(tmp_path) as (client, _):
        spec = (await client.get("/openapi.json")).json()
        assert "/users/{user_id}/facts/{fact_id}/why" in spec["paths"]
        page = await client.get("/inspect/alice")
        assert page.headers["content-type"].startswith("text/html")
        assert "cytoscape.min.js" in page.text
        js = await client.get("/inspector/static/vendor/cytoscape.min.js")
        assert js.status_code == 200 and len(js.content) > 100_000
        assert (await client.get("/inspector/static/inspect.js")).status_code == 200


async def test_memory_routes_wait_for_the_users_deferred_chat_writes(tmp_path: Path) -> None:
    # Extraction takes 0.3 s, as a real model's does; chat replies before its write lands.
    from memlane.agent.api import MemoryAgent
    from memlane.agent.settings import Settings
    from memlane.agent.state import AgentOptions
    from memlane.app.server import create_app
    from memlane.llm.gateway import LLMGateway
    from memlane.llm.testing import ScriptedLLM
    from memlane.memory_graph.embedding.models import HashEmbedder
    from memlane.memory_graph.memory import Memory
    from memlane.memory_graph.stores import open_store

    with ScriptedLLM.installed(latency_s={"extract_memory": 0.3}) as fake:
        async with open_store(f"sqlite:///{tmp_path / 'm.db'}") as store:
            memory = Memory(store, HashEmbedder())
            settings = Settings(
                model=fake.model, embedder="hash", checkpoint_db=str(tmp_path / "t.db")
            )
            agent = MemoryAgent(
                settings=settings,
                memory=memory,
                gateway=LLMGateway(fake.model, backoff_s=0, max_retries=0),
                options=AgentOptions(defer_writes=True),
            )
            transport = httpx.ASGITransport(app=create_app(memory, agent=agent))
            try:
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://127.0.0.1"
                ) as client:
                    await _chat_read_and_forget(client, agent)
            finally:
                await agent.aclose()


async def _chat_read_and_forget(client: httpx.AsyncClient, agent: Any) -> None:
    r = await client.post("/users/alice/chat", json={"message": "I live in Lisbon."})
    assert r.json()["write_status"] == "queued"
    r = await client.get("/users/alice/facts", params={"predicate": "lives_in"})
    assert [f["object"] for f in r.json()["facts"]] == ["Lisbon"]
    # A forget right after a turn is not undone by that turn's queued write.
    await client.post("/users/alice/chat", json={"message": "I love sushi."})
    assert (await client.delete("/users/alice")).status_code == 200
    await agent.drain()
    assert (await client.get("/users/alice/facts")).json()["facts"] == []
