"""Foundation: users, officers, devices, partitioned pings, latest officer positions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("full_name", sa.String(200)),
        sa.Column("phone", sa.String(32), unique=True),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("token_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("role IN ('citizen','officer','dispatcher','agency','admin')", name="role"),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL"), unique=True),
        sa.Column("badge", sa.String(32), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="available"),
        sa.Column("sector", sa.String(100)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("unit_type IN ('car','motorbike','foot')", name="unit_type"),
        sa.CheckConstraint("status IN ('available','busy','off_duty')", name="status"),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "officer_id", sa.BigInteger, sa.ForeignKey("officers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("identifier", sa.String(128), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), unique=True),
        sa.Column("label", sa.String(100)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", TZ),
    )
    op.create_index("ix_devices_officer_id", "devices", ["officer_id"])
    # Declarative partitioning by day; partitions themselves are created ahead of time by the server.
    op.create_table(
        "pings",
        sa.Column("officer_id", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column(
            "geog",
            geoalchemy2.Geography("POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("speed_mps", sa.Float),
        sa.Column("heading_deg", sa.Float),
        sa.Column("altitude_m", sa.Float),
        sa.Column("battery_pct", sa.Float),
        sa.Column("device_id", sa.BigInteger),
        sa.Column("source", sa.String(16), nullable=False, server_default="api"),
        sa.PrimaryKeyConstraint("officer_id", "recorded_at", name="pk_pings"),
        postgresql_partition_by="RANGE (recorded_at)",
    )
    op.create_table(
        "officer_positions",
        sa.Column(
            "officer_id", sa.BigInteger, sa.ForeignKey("officers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "geog",
            geoalchemy2.Geography("POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("speed_mps", sa.Float),
        sa.Column("heading_deg", sa.Float),
        sa.Column("altitude_m", sa.Float),
        sa.Column("battery_pct", sa.Float),
    )
    op.create_index("ix_officer_positions_geog", "officer_positions", ["geog"], postgresql_using="gist")
    op.create_index("ix_officer_positions_recorded_at", "officer_positions", ["recorded_at"])


def downgrade() -> None:
    op.drop_table("officer_positions")
    op.drop_table("pings")
    op.drop_table("devices")
    op.drop_table("officers")
    op.drop_table("users")
