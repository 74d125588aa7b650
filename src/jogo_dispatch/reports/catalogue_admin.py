"""The category catalogue as the admin console edits it: names in Indonesian and English, the priority
incidents of the category get, the reward points of a verified report, whether citizens may pick it, and
its place in the list. Audited (entity ``category``, by the category's numeric id). A category is never
deleted (old reports and incidents name it): it is switched off.

* ``GET /api/v1/categories/all``: every category, switched-off ones too, with the points in force;
* ``POST /api/v1/categories``: a new category;
* ``PUT /api/v1/categories/{code}``: change one (everything but its code).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.deps import Admin, RuntimeDep, SessionDep
from jogo_dispatch.errors import Conflict, NotFound
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.reports.models import Category
from jogo_dispatch.settings import Settings

CODE_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"
EDITABLE = ("name_id", "name_en", "default_priority", "reward_points", "active", "sort_order")


class CategoryFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_id: str = Field(min_length=1, max_length=100, description="the name citizens read in Indonesian")
    name_en: str = Field(min_length=1, max_length=100)
    default_priority: int = Field(ge=1, le=5, description="1 = most urgent")
    reward_points: int | None = Field(
        None, ge=0, le=1000, description="points for a verified report; null = the settings' points"
    )
    active: bool = True
    sort_order: int = Field(100, ge=0, le=32767)


class CategoryCreate(CategoryFields):
    code: str = Field(pattern=CODE_PATTERN, description="lower-case letters, digits and _; fixed once made")


class CategoryAdminOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_id: str
    name_en: str
    default_priority: int
    reward_points: int | None
    points: int = Field(description="points a verified report earns now (its own, else the settings')")
    active: bool
    sort_order: int


def _points(settings: Settings, row: Category) -> int:
    if row.reward_points is not None:
        return row.reward_points
    return settings.reward_points.get(row.code, settings.reward_points_default)


def view(settings: Settings, row: Category) -> CategoryAdminOut:
    return CategoryAdminOut(
        id=row.id,
        code=row.code,
        name_id=row.name_id,
        name_en=row.name_en,
        default_priority=row.default_priority,
        reward_points=row.reward_points,
        points=_points(settings, row),
        active=row.active,
        sort_order=row.sort_order,
    )


def _state(row: Category) -> dict[str, Any]:
    return {k: getattr(row, k) for k in EDITABLE}


async def all_categories(session: AsyncSession) -> list[Category]:
    return list(await session.scalars(select(Category).order_by(Category.sort_order, Category.code)))


async def create_category(session: AsyncSession, data: CategoryCreate, actor_id: int) -> Category:
    row = Category(code=data.code, **data.model_dump(include=set(EDITABLE)))
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"category {data.code!r} exists", code="category_exists") from None
    await session.refresh(row)
    audit.record(
        session,
        "category",
        row.id,
        "created",
        to_state=_activity(row.active),
        actor_id=actor_id,
        data={"code": row.code, "after": _state(row)},
    )
    return row


def _activity(active: bool) -> str:
    return "active" if active else "inactive"


async def update_category(session: AsyncSession, code: str, data: CategoryFields, actor_id: int) -> Category:
    row = await session.scalar(select(Category).where(Category.code == code).with_for_update())
    if row is None:
        raise NotFound(f"category {code!r} not found", code="category_not_found")
    before = _state(row)
    for field in EDITABLE:
        setattr(row, field, getattr(data, field))
    after = _state(row)
    changes = {k: [before[k], after[k]] for k in EDITABLE if before[k] != after[k]}
    if changes:
        await session.flush()
        audit.record(
            session,
            "category",
            row.id,
            "updated",
            from_state=_activity(bool(before["active"])),
            to_state=_activity(row.active),
            actor_id=actor_id,
            data={"code": row.code, "changes": changes},
        )
    return row


router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1/categories", tags=["reports"])
CodePath = Path(pattern=CODE_PATTERN, description="the category's code")


@router.get("/all", response_model=list[CategoryAdminOut])
async def get_all_categories(rt: RuntimeDep, session: SessionDep, _: Admin) -> list[CategoryAdminOut]:
    """Every category, switched-off ones too, with the points a verified report earns."""
    return [view(rt.settings, row) for row in await all_categories(session)]


@router.post("", response_model=CategoryAdminOut, status_code=201)
async def post_category(
    data: CategoryCreate, rt: RuntimeDep, session: SessionDep, me: Admin
) -> CategoryAdminOut:
    """A new category (409 ``category_exists`` when the code is taken)."""
    return view(rt.settings, await create_category(session, data, me.user_id))


@router.put("/{code}", response_model=CategoryAdminOut)
async def put_category(
    data: CategoryFields, rt: RuntimeDep, session: SessionDep, me: Admin, code: str = CodePath
) -> CategoryAdminOut:
    """Change a category (everything but its code); ``active: false`` takes it off the citizens' list."""
    return view(rt.settings, await update_category(session, code, data, me.user_id))
