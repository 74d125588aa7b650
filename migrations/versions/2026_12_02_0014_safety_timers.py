"""Officer-safety and queue timers: per unit, when its welfare check was sent and answered (or missed),
and whether the dispatchers were told it is late en route.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

COLUMNS = ("welfare_sent_at", "welfare_ok_at", "welfare_missed_at", "late_alerted_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.add_column("offers", sa.Column(column, sa.DateTime(timezone=True)))


def downgrade() -> None:
    for column in reversed(COLUMNS):
        op.drop_column("offers", column)
