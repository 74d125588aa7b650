"""Response plans (run cards): for a category and priority (optionally a police sector), the police units an
incident needs and the agencies it goes to or that are suggested."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Identity,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import Base, created_at_column


class ResponsePlan(Base):
    __tablename__ = "response_plans"
    __table_args__ = (
        CheckConstraint("units BETWEEN 0 AND 10", name="units"),
        CheckConstraint("priority IS NULL OR priority BETWEEN 1 AND 5", name="priority"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), index=True)
    priority: Mapped[int | None] = mapped_column(SmallInteger)  # None: any priority
    sector_code: Mapped[str | None] = mapped_column(String(64))  # None: every sector
    units: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    unit_types: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list, server_default="{}")
    forward_to: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list, server_default="{}")
    suggest: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list, server_default="{}")
    welfare_interval_s: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()
