from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from jogo_dispatch.platform.json_types import IsoDatetime

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_@-]+$")]


class PlanIn(BaseModel):
    """``units``: police units the incident needs (0: none, the agencies handle it); ``forward_to``: agency
    codes the incident goes to; ``suggest``: agencies the dispatcher is offered."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=32)
    priority: int | None = Field(None, ge=1, le=5, description="None: any priority")
    sector_code: str | None = Field(None, max_length=64, description="None: every police sector")
    units: int = Field(1, ge=0, le=10)
    unit_types: list[Literal["car", "motorbike", "foot"]] = Field(default_factory=list, max_length=3)
    forward_to: list[Code] = Field(default_factory=list, max_length=20)
    suggest: list[Code] = Field(default_factory=list, max_length=20)
    welfare_interval_s: int | None = Field(None, ge=60, le=86400, description="officer-safety check override")
    active: bool = True


class PlanOut(PlanIn):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    created_at: IsoDatetime
    updated_at: IsoDatetime


class PlanList(BaseModel):
    items: list[PlanOut]


class AppliedPlan(BaseModel):
    """What an incident keeps of the plan applied to it (``data.plan``)."""

    id: int | None
    name: str
    units: int
    unit_types: list[str]
    forward_to: list[str]
    suggest: list[str]
    welfare_interval_s: int | None
