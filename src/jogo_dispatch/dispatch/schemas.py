from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from jogo_dispatch.platform.db import Id

Reason = Annotated[str | None, Field(max_length=1000)]


class StatusChangeIn(BaseModel):
    """``dispatched`` is not here: an incident is dispatched when an officer accepts an offer."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["verified", "en_route", "on_scene", "resolved", "cancelled"]
    reason: Reason = None


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    officer_id: Id | None = Field(None, description="offer to this officer; default: the nearest available")


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    other_incident_id: Id = Field(description="this incident is folded into the one in the path")
    reason: Reason = None


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    report_ids: list[Id] = Field(min_length=1, max_length=200, description="reports moved to a new incident")
    reason: Reason = None


class OfferAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apply: bool = Field(False, description="make the proposed offers (default: only propose)")
    method: Literal["optimal", "greedy"] = "optimal"
