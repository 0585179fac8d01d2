"""HTTP hardening: the Host check, docs served without a CDN, and what the key guards."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from memlane.app.server import TrustedHosts, create_app
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store

pytestmark = pytest.mark.unit


async def _get(app: object, path: str, host: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        return await client.get(path, headers={"host": host, **headers})


@pytest.fixture
async def memory(tmp_path: Path) -> Memory:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")
    await store.open()
    yield Memory(store, HashEmbedder())  # type: ignore[misc]
    await store.close()


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost:8000", True),
        ("127.0.0.1:8000", True),
        ("[::1]:8000", True),
        ("LOCALHOST", True),
        ("evil.example", False),
        ("evil.example:8000", False),
        ("127.0.0.1.evil.example", False),
        ("", False),
    ],
)
async def test_without_a_key_only_loopback_hosts_are_answered(
    memory: Memory, host: str, allowed: bool
) -> None:
    res = await _get(create_app(memory), "/users/ana/profile", host)
    if allowed:
        assert res.status_code == 200
    else:
        assert res.status_code == 400 and res.json()["code"] == "untrusted_host"


async def test_the_allowed_hosts_are_configurable(memory: Memory) -> None:
    app = create_app(memory, allowed_hosts=["memory.example.com", "*.corp.example"])
    assert (await _get(app, "/healthz", "memory.example.com")).status_code == 200
    assert (await _get(app, "/healthz", "a.corp.example:443")).status_code == 200
    assert (await _get(app, "/healthz", "localhost")).status_code == 400
    keyed = create_app(memory, api_key="k")  # with a key, any host (the key guards the data)
    assert (await _get(keyed, "/healthz", "memory.example.com")).status_code == 200


def test_host_names_are_parsed_without_their_port() -> None:
    check = TrustedHosts(lambda *a: None, ["::1", "example.com"])  # type: ignore[arg-type]
    assert check.allows("[::1]:80") and check.allows("example.com:8080")
    assert not check.allows("example.com.evil") and not check.allows("[::2]")


async def test_docs_pages_and_their_assets_are_served_locally(memory: Memory) -> None:
    app = create_app(memory)
    for page, assets in (
        ("/docs", ("/docs-static/swagger-ui-bundle.js", "/docs-static/swagger-ui.css")),
        ("/redoc", ("/docs-static/redoc.standalone.js",)),
    ):
        html = (await _get(app, page, "localhost")).text
        assert "cdn" not in html.lower() and "https://" not in html.split("<body")[0]
        for asset in assets:
            assert asset in html
            res = await _get(app, asset, "localhost")
            assert res.status_code == 200 and len(res.content) > 10_000


async def test_the_key_guards_every_users_route_and_only_those(memory: Memory) -> None:
    app = create_app(memory, api_key="s3cret", allowed_hosts=["localhost"])
    routes = [r for r in app.routes if hasattr(r, "methods")]
    open_ = {r.path for r in routes if not r.path.startswith("/users/")}  # type: ignore[attr-defined]
    assert open_ == {
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/inspect/{user_id}",
        "/healthz",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        for route in routes:
            if not route.path.startswith("/users/"):  # type: ignore[attr-defined]
                continue
            path = route.path.replace("{user_id}", "ana").replace("{fact_id}", "f1")  # type: ignore[attr-defined]
            for method in route.methods:  # type: ignore[attr-defined]
                res = await client.request(method, path)
                assert res.status_code == 401, (method, path, res.status_code)
        keyed = await client.get("/users/ana/profile", headers={"x-api-key": "s3cret"})
        assert keyed.status_code == 200
    for path in sorted(open_ - {"/inspect/{user_id}"}):
        assert (await _get(app, path, "localhost")).status_code == 200, path
