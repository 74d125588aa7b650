"""Requests and answers of the abuse domain: a citizen's warnings, appeals and their decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class WarningOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    report_id: int | None
    reason: str | None
    warning: str
    created_at: datetime
    cleared_at: datetime | None


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=4000, description="why the account should be reopened")


class AppealOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    text: str
    status: Literal["pending", "upheld", "granted"]
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str | None


class AppealQueueItem(AppealOut):
    """An appeal as the reviewer sees it: with the citizen and the strikes that blocked the account."""

    username: str | None = None
    full_name: str | None = None
    strike_count: int = 0
    blocked_at: datetime | None = None
    strikes: list[WarningOut] = Field(default_factory=list)


class AccountRecord(BaseModel):
    """What a dispatcher should know of the caller behind an SOS (a blocked account's SOS still arrives)."""

    blocked: bool
    blocked_at: datetime | None
    strike_count: int = Field(description="strikes since the last granted appeal")
    false_reports: int = Field(description="reports marked false, ever")


class WarningsOut(BaseModel):
    strike_count: int
    strikes_to_block: int
    blocked: bool
    blocked_at: datetime | None
    warnings: list[WarningOut]
    latest_appeal: AppealOut | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["grant", "uphold"]
    note: str | None = Field(None, max_length=4000)
