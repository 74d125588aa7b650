"""Reward points: one award per verified report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from jogo_dispatch.platform.db import Base, created_at_column


class RewardAward(Base):
    __tablename__ = "reward_awards"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Unique: however often a verification is seen (hook, event, retry), a report earns points once.
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"), unique=True)
    category: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
