"""Alerts, officer online/offline events, and protocol attributes on pings.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("officer_id", sa.BigInteger, sa.ForeignKey("officers.id", ondelete="SET NULL")),
        sa.Column("incident_id", sa.BigInteger),
        sa.Column("lat", sa.Float),
        sa.Column("lon", sa.Float),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("acknowledged_at", TZ),
        sa.Column("acknowledged_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
    )
    op.create_index("ix_alerts_kind", "alerts", ["kind"])
    op.create_index(
        "ix_alerts_open", "alerts", ["created_at"], postgresql_where=sa.text("acknowledged_at IS NULL")
    )
    op.create_table(
        "officer_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "officer_id", sa.BigInteger, sa.ForeignKey("officers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("ix_officer_events_officer_id", "officer_events", ["officer_id"])
    op.add_column("pings", sa.Column("attributes", JSONB))
    # Presence as last announced (the monitor flips it and records an officer_event).
    op.add_column("officers", sa.Column("online", sa.Boolean, nullable=False, server_default="false"))
    op.add_column("officers", sa.Column("presence_changed_at", TZ))


def downgrade() -> None:
    op.drop_column("officers", "presence_changed_at")
    op.drop_column("officers", "online")
    op.drop_column("pings", "attributes")
    op.drop_table("officer_events")
    op.drop_table("alerts")
