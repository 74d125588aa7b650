from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.reports.helpers import _catalogue  # noqa: F401  (fixture)

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


async def new_key(app: Any, label: str = "FixMyKota") -> str:
    from jogo_dispatch.open311 import keys as service

    rt = app.state.runtime
    async with rt.sessions() as session:
        _, key = await service.create_api_key(session, label)
        await session.commit()
    return key


@pytest.fixture
async def api_key(app: Any, client: httpx.AsyncClient) -> str:
    return await new_key(app)


async def post_form(client: httpx.AsyncClient, body: str) -> httpx.Response:
    """Exactly what an Open311 client puts on the wire."""
    return await client.post("/open311/v2/requests.json", content=body.encode(), headers=FORM)
