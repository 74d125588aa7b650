"""Agencies, police sectors, routing rules, strikes, citizen block state and appeals.

State changes of strikes and appeals go to audit_log (migration 0003).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _timestamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.create_table(
        "police_sectors",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("police_agency", sa.String(64)),
        sa.Column(
            "geom", geoalchemy2.Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False
        ),
        sa.Column("approximate", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("source_note", sa.Text),
        *_timestamps(),
        sa.UniqueConstraint("region", "code", name="uq_police_sectors_region_code"),
        sa.CheckConstraint("ST_IsValid(geom)", name="valid_geom"),
    )
    op.create_index("ix_police_sectors_geom", "police_sectors", ["geom"], postgresql_using="gist")
    op.create_table(
        "agencies",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("geog", geoalchemy2.Geography("POINT", srid=4326, spatial_index=False)),
        sa.Column("phone", sa.String(32)),
        sa.Column("address", sa.String(300)),
        sa.Column("delivery", sa.String(8), nullable=False, server_default="inbox"),
        sa.Column("webhook_url", sa.String(500)),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("approximate", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("source_note", sa.Text),
        *_timestamps(),
        sa.UniqueConstraint("region", "code", name="uq_agencies_region_code"),
        sa.CheckConstraint(
            "kind IN ('police_unit','government','hospital','utility','insurer','fire')", name="kind"
        ),
        sa.CheckConstraint("delivery IN ('inbox','webhook','both')", name="delivery"),
        sa.CheckConstraint("delivery = 'inbox' OR webhook_url IS NOT NULL", name="webhook_url"),
    )
    op.create_index("ix_agencies_geog", "agencies", ["geog"], postgresql_using="gist")
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("region", sa.String(32), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("sector_code", sa.String(64)),
        sa.Column("priority", sa.Integer, nullable=False, server_default="100"),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        *_timestamps(),
        sa.CheckConstraint("role IN ('responsible','always_notify','hospital')", name="role"),
        sa.UniqueConstraint(
            "region",
            "category",
            "role",
            "agency_code",
            "sector_code",
            name="uq_routing_rules_key",
            postgresql_nulls_not_distinct=True,
        ),
    )
    op.create_index("ix_routing_rules_region_category", "routing_rules", ["region", "category"])
    op.create_table(
        "appeals",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("decided_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("decided_at", TZ),
        sa.Column("decision_note", sa.Text),
        sa.CheckConstraint("status IN ('pending','upheld','granted')", name="status"),
    )
    op.create_index("ix_appeals_user_id", "appeals", ["user_id"])
    op.create_index("ix_appeals_status", "appeals", ["status", "created_at"])
    op.create_index(
        "uq_appeals_one_pending",
        "appeals",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "strikes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("reports.id", ondelete="SET NULL"), unique=True),
        sa.Column("reason", sa.Text),
        sa.Column("warning", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("cleared_at", TZ),
        sa.Column("cleared_by_appeal", sa.BigInteger, sa.ForeignKey("appeals.id", ondelete="SET NULL")),
    )
    op.create_index("ix_strikes_user_id", "strikes", ["user_id"])
    op.create_table(
        "citizen_status",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("strike_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("blocked_at", TZ),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("citizen_status")
    op.drop_table("strikes")
    op.drop_table("appeals")
    op.drop_table("routing_rules")
    op.drop_table("agencies")
    op.drop_table("police_sectors")
