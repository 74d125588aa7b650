"""An SOS call can be ended (by its caller or a dispatcher): when, by whom, why.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sos_calls", sa.Column("ended_at", sa.DateTime(timezone=True)))
    op.add_column(
        "sos_calls", sa.Column("ended_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL"))
    )
    op.add_column("sos_calls", sa.Column("end_reason", sa.String(500)))


def downgrade() -> None:
    for column in ("end_reason", "ended_by", "ended_at"):
        op.drop_column("sos_calls", column)
