"""What the rewards API answers: a citizen's points and the public leaderboard."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from jogo_dispatch.platform.json_types import IsoDatetime


class AwardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    report_id: int | None
    category: str
    points: int
    awarded_at: IsoDatetime = Field(validation_alias="created_at")


class PointsOut(BaseModel):
    user_id: int
    total: int
    awards: int
    rank: int | None
    history: list[AwardOut]


class LeaderOut(BaseModel):
    rank: int
    name: str | None
    phone: str | None
    points: int
    reports: int


class LeaderboardOut(BaseModel):
    since: IsoDatetime | None
    items: list[LeaderOut]
