"""Schemathesis against the app's own OpenAPI schema: every operation, logged in as a role that may call it
(tests/security/routes.py), positive and negative data. No answer may be a 5xx, and every answer must be
one the schema declares, with a body that matches it.

The app under test is a second instance on the test database, started by Schemathesis's ASGI transport in
its own event loop (the session ``app`` fixture lives in pytest's loop and builds the world).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.conftest import APPS, _all_tables, reset_runtime
from tests.reports.helpers import restore_catalogue
from tests.security.conftest import World, build_world
from tests.security.routes import caller_for

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("JOGO_FUZZ_EXAMPLES", "20"))


def _schema() -> Any:
    """The schema the app serves at /openapi.json, built without a database (collection time)."""
    from jogo_dispatch.main import create_app
    from jogo_dispatch.settings import Settings

    offline = Settings(
        env="test",
        database_url="postgresql://schema-only@127.0.0.1/none",
        log_level="WARNING",
        log_json=False,
        osmand_port=None,
        _env_file=None,
    )  # type: ignore[call-arg]
    return create_app(offline).openapi()


SCHEMA = _schema()
schema = schemathesis.openapi.from_dict(SCHEMA)


@pytest.fixture(scope="module")
async def fuzz_world(app: Any, database_url: str) -> AsyncIterator[World]:
    """One world for every operation (the per-test clean-up of ``client`` would cost a world each)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await restore_catalogue(database_url)
        yield await build_world(app, client)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(f"TRUNCATE {_all_tables()} RESTART IDENTITY CASCADE")
    await restore_catalogue(database_url)
    for application in APPS:
        reset_runtime(application)


@pytest.fixture(scope="module")
def fuzz_app(settings: Any, fuzz_world: World) -> Iterator[Any]:
    """A second app on the test database, started by Schemathesis's ASGI transport in its own loop."""
    from jogo_dispatch.main import create_app

    # No webhook deliveries to fuzzed URLs, no expiry sweeps racing the checks, no quota to run out.
    fuzz_settings = settings.model_copy(
        update={
            "forward_sweep_s": 0,
            "offer_sweep_s": 0,
            "report_limit_per_account": 0,
            "report_limit_per_device": 0,
            "sos_limit_per_account": 0,
            "sos_limit_per_device": 0,
            "open311_limit_per_key": 0,
        }
    )
    application = create_app(fuzz_settings)
    yield application
    asgi.shutdown_lifespans()


def test_the_fuzzed_schema_is_the_served_one(fuzz_app: Any) -> None:
    served = asgi.get_client(fuzz_app).__enter__().get("/openapi.json")
    assert served.status_code == 200 and served.json() == SCHEMA


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_declared(case: Any, fuzz_app: Any, fuzz_world: World) -> None:
    method, path = case.operation.method.upper(), case.operation.path
    caller = caller_for(method, path)
    if path == "/api/v1/auth/revoke":
        caller = "citizen2"  # revoking is what this caller is for; the others keep working
    headers = fuzz_world.of(caller) if caller else {}
    if path == "/open311/v2/requests.json" and method == "POST" and isinstance(case.body, dict):
        case.body["api_key"] = fuzz_world.api_key
    case.call_and_validate(app=fuzz_app, headers=headers, checks=CHECKS)
