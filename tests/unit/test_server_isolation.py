"""Every HTTP route scoped to one user never returns or changes another user's data.

The table below must name every route with ``{user_id}`` in its path: a new route fails
``test_every_user_route_is_covered`` until it is added here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memlane.app.server import create_app
from tests.tools_support.app import served
from tests.tools_support.seed import seed_user

pytestmark = pytest.mark.unit

# (method, route path, request kwargs); "{A}" / "{B}" fact ids are filled in per run.
REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/users/{user_id}/profile", {}),
    ("GET", "/users/{user_id}/profile", {"params": {"as_of": "2023-07-01"}}),
    ("GET", "/users/{user_id}/search", {"params": {"q": "where do I live? Berlin sushi Rex"}}),
    ("GET", "/users/{user_id}/facts", {}),
    ("GET", "/users/{user_id}/facts", {"params": {"predicate": "lives_in", "as_of": "2023-07-01"}}),
    ("GET", "/users/{user_id}/history", {"params": {"predicate": "lives_in"}}),
    ("GET", "/users/{user_id}/facts/{fact_id}/why", {}),
    ("GET", "/users/{user_id}/diff", {"params": {"since": "2000-01-01"}}),
    ("GET", "/users/{user_id}/graph", {}),
    ("GET", "/users/{user_id}/timeline", {}),
    ("GET", "/users/{user_id}/export", {}),
    ("POST", "/users/{user_id}/remember", {"json": {"statement": "I keep bees"}}),
    ("POST", "/users/{user_id}/facts/{fact_id}/correct", {"json": {"value": "Lisbon"}}),
    ("POST", "/users/{user_id}/chat", {"json": {"message": "I moved to Rome.", "session_id": "s"}}),
    ("POST", "/users/{user_id}/ingest", {"json": {"messages": [{"content": "I love opera."}]}}),
    ("POST", "/users/{user_id}/retry-failed", {}),
    ("DELETE", "/users/{user_id}/facts/{fact_id}", {}),
    ("DELETE", "/users/{user_id}", {}),
]  # fmt: skip


def test_every_user_route_is_covered() -> None:
    paths = create_app(memory=None, api_key=None).openapi()["paths"]
    routes = {
        (method.upper(), path)
        for path, ops in paths.items()
        if path.startswith("/users/")
        for method in ops
    }
    assert routes == {(m, p) for m, p, _ in REQUESTS}


async def _snapshot(client: Any, user: str) -> list[str]:
    response = await client.get(f"/users/{user}/export")
    assert response.status_code == 200
    return sorted(response.text.splitlines())


@pytest.mark.parametrize("target", ["own", "other"])
async def test_requests_for_alice_never_touch_bob(tmp_path: Path, target: str) -> None:
    """Alice's requests, with her own fact ids and with Bob's, leave Bob as he was."""
    async with served(tmp_path, with_agent=True) as (client, memory):
        alice = await seed_user(memory, "alice")
        bob = await seed_user(memory, "bob", name="Bob")
        bob_before = await _snapshot(client, "bob")
        bob_ids = set(bob.values())
        for method, path, kwargs in REQUESTS:
            fact = alice["works_at:Acme"] if target == "own" else bob["works_at:Acme"]
            if "correct" in path or method == "DELETE":
                fact = alice["likes:sushi"] if target == "own" else bob["likes:sushi"]
            url = path.replace("{user_id}", "alice").replace("{fact_id}", fact)
            response = await client.request(method, url, **kwargs)
            assert response.status_code < 500, (method, url, response.text)
            if target == "own":
                assert response.status_code < 400, (method, url, response.text)
            if "{fact_id}" in path and target == "other":
                assert response.status_code == 404, (method, url, response.text)
            body = response.text
            assert "(Bob)" not in body and "bob-ep" not in body, (method, url)
            # (an error may echo the id Alice sent; no other id of Bob's may appear)
            assert not any(i in body for i in bob_ids - {fact}), (method, url)
            if response.headers.get("content-type", "").startswith("application/json"):
                assert '"user_id":"bob"' not in body.replace(" ", "")
            assert await _snapshot(client, "bob") == bob_before, (method, url)
        # Alice's own data did change (the requests were real), Bob's did not.
        assert await _snapshot(client, "alice") == []
        assert json.loads((await client.get("/users/bob/profile")).text)["count"] == 4
