"""schemathesis against the OpenAPI schema, in process (ASGI): no 5xx, responses as documented.

The app is the real one (lifespan opens the memory and the offline chat agent from settings)
over a seeded SQLite store. Examples per operation are bounded to keep the run short.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from memlane.agent.settings import Settings
from memlane.app.server import create_app
from memlane.memory_graph.embedding.models import HashEmbedder
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.stores import open_store
from tests.tools_support.seed import seed_user

pytestmark = pytest.mark.integration

EXAMPLES = 8  # per operation and mode: about 17 operations x 2 modes, well under a minute

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


async def _seed(db: Path) -> None:
    async with open_store(f"sqlite:///{db}") as store:
        memory = Memory(store, HashEmbedder())
        await seed_user(memory, "alice")
        await seed_user(memory, "bob", name="Bob")


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("api")
    asyncio.run(_seed(tmp / "api.db"))
    config = Settings(
        store=f"sqlite:///{tmp / 'api.db'}",
        embedder="hash",
        model="memlane/offline",
        checkpoint_db=str(tmp / "threads.db"),
        api_key=None,
        allowed_hosts=["localhost", "testserver"],  # the Host schemathesis's ASGI client sends
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(settings=config))
    shutdown_lifespans()


def test_api_never_fails_with_a_server_error(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate(checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                # No invalid request exists for an operation without inputs (e.g. /healthz).
                if mode is not GenerationMode.NEGATIVE:
                    raise
