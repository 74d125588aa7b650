from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from jogo_dispatch.agencies.regions import packs
from jogo_dispatch.agencies.routing import Pack
from tests.reports.helpers import CATEGORIES


async def restore_catalogue(session: Any) -> None:
    """The HTTP fixtures truncate every table after a test, the seeded catalogue too: put it back."""
    from jogo_dispatch.reports.models import Category

    if await session.scalar(select(func.count()).select_from(Category)):
        return
    rows = [
        {"code": c, "name_id": i, "name_en": e, "default_priority": p, "sort_order": n}
        for n, (c, i, e, p) in enumerate(CATEGORIES)
    ]
    await session.execute(insert(Category).values(rows).on_conflict_do_nothing())


async def seed(app: Any, region: str = "malang") -> dict[str, tuple[int, int]]:
    from jogo_dispatch.agencies import service

    rt = app.state.runtime
    async with rt.sessions() as session:
        await restore_catalogue(session)
        done = await service.seed_region(session, packs.load(region))
        await session.commit()
    return done


@pytest.fixture
def malang() -> Pack:
    return packs.load("malang")


@pytest.fixture
def cilacap() -> Pack:
    return packs.load("cilacap")
