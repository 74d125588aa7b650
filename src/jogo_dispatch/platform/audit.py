"""The audit trail every domain writes to: one row per state change of an incident, offer, report,
forward, strike or appeal, with actor, time, reason and free-form data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String, Text, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import Base, created_at_column, utcnow
from jogo_dispatch.platform.json_types import IsoDatetime


class Reason(str):
    """A reason the system gives (not a person's words): its English text, which is what is stored and
    sent, plus a ``code`` and ``params`` that a page turns into its own language (``reason.<code>``)."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, template: str, **params: Any) -> Reason:
        self = super().__new__(cls, template.format(**params))
        self.code, self.params = code, params
        return self


class AuditEntry(Base):
    """One state change of anything (incident, offer, report, forward, strike, appeal): who, when, why."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    at: Mapped[datetime] = created_at_column()


class AuditEntryOut(BaseModel):
    """An audit row as timelines and histories show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    entity_type: str
    entity_id: int
    action: str
    from_state: str | None
    to_state: str | None
    actor_id: int | None
    reason: str | None
    data: dict[str, Any]
    at: IsoDatetime | None
    reason_code: str | None = Field(
        None, description="a system reason's code (the page's label reason.<code>); none for a person's words"
    )
    reason_params: dict[str, Any] = Field(default_factory=dict, description="the values the reason names")
    actor_name: str | None = Field(None, description="who made the change (name, else username)")
    actor_role: str | None = None

    @model_validator(mode="after")
    def _reason_code(self) -> AuditEntryOut:
        if self.reason_code is None and isinstance(self.data.get("reason_code"), str):
            self.reason_code = self.data["reason_code"]
            params = self.data.get("reason_params")
            self.reason_params = params if isinstance(params, dict) else {}
        return self


def record(
    session: AsyncSession,
    entity_type: str,
    entity_id: int,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    actor_id: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add an audit row to the unit of work (written with its next flush, committed with it). A
    :class:`Reason` keeps its code and parameters in ``data`` (``reason_code``, ``reason_params``)."""
    if isinstance(reason, Reason):
        data = {**(data or {}), "reason_code": reason.code, "reason_params": reason.params}
    entry = AuditEntry(
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        # Device-token logins have no user row (user id 0): such actions are recorded as the system's.
        actor_id=actor_id or None,
        reason=reason,
        data=data or {},
        at=at or utcnow(),
    )
    session.add(entry)
    return entry


async def entries(session: AsyncSession, entity_type: str, entity_ids: list[int]) -> list[AuditEntry]:
    if not entity_ids:
        return []
    return list(
        await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id.in_(entity_ids))
            .order_by(AuditEntry.id)
        )
    )
