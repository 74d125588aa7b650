"""Citizen reports, SOS, incidents, offers and the dispatch audit trail.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
GEOG_OF_LATLON = "ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography"
ACTIVE_OFFER = sa.text("status IN ('pending','accepted')")

# code, Indonesian, English, default priority (1 = most urgent)
CATEGORIES = [
    ("traffic_accident", "Kecelakaan lalu lintas", "Traffic accident", 2),
    ("traffic_jam", "Kemacetan lalu lintas", "Traffic jam", 4),
    ("crime", "Tindak kejahatan", "Crime", 2),
    ("public_order", "Gangguan ketertiban umum", "Public-order disturbance", 3),
    ("fire", "Kebakaran", "Fire", 1),
    ("medical", "Kedaruratan medis", "Medical emergency", 1),
    ("fallen_tree", "Pohon tumbang", "Fallen tree", 3),
    ("power_outage", "Listrik padam", "Power outage", 4),
    ("flood_landslide", "Banjir / tanah longsor", "Flood / landslide", 2),
    ("road_damage", "Jalan rusak", "Road damage", 5),
    ("other", "Lainnya", "Other", 4),
]


def _point() -> list[sa.Column]:
    return [
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column(
            "geog",
            geoalchemy2.Geography("POINT", srid=4326, spatial_index=False),
            sa.Computed(GEOG_OF_LATLON, persisted=True),
            nullable=False,
        ),
    ]


def upgrade() -> None:
    categories = op.create_table(
        "categories",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name_id", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("default_priority", sa.SmallInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("sort_order", sa.SmallInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("default_priority BETWEEN 1 AND 5", name="default_priority"),
    )
    op.bulk_insert(
        categories,
        [
            {"code": c, "name_id": i, "name_en": e, "default_priority": p, "active": True, "sort_order": n}
            for n, (c, i, e, p) in enumerate(CATEGORIES)
        ],
    )

    op.create_table(
        "incidents",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("address", sa.Text),
        *_point(),
        sa.Column("h3_r9", sa.BigInteger, nullable=False),
        sa.Column("h3_r7", sa.BigInteger, nullable=False),
        sa.Column("sector", sa.String(100)),
        sa.Column("reporter_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("officer_id", sa.BigInteger, sa.ForeignKey("officers.id", ondelete="SET NULL")),
        sa.Column("merged_into_id", sa.BigInteger, sa.ForeignKey("incidents.id", ondelete="SET NULL")),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("verified_at", TZ),
        sa.Column("dispatched_at", TZ),
        sa.Column("acknowledged_at", TZ),
        sa.Column("en_route_at", TZ),
        sa.Column("on_scene_at", TZ),
        sa.Column("cleared_at", TZ),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "status IN ('new','verified','dispatched','en_route','on_scene','resolved','cancelled')",
            name="status",
        ),
        sa.CheckConstraint("priority BETWEEN 1 AND 5", name="priority"),
        sa.CheckConstraint("source IN ('report','sos','officer_sos')", name="source"),
    )
    op.create_index("ix_incidents_geog", "incidents", ["geog"], postgresql_using="gist")
    op.create_index("ix_incidents_h3_r9", "incidents", ["h3_r9"])
    op.create_index("ix_incidents_h3_r7", "incidents", ["h3_r7"])
    op.create_index("ix_incidents_sector", "incidents", ["sector"])
    op.create_index("ix_incidents_officer_id", "incidents", ["officer_id"])
    op.create_index("ix_incidents_status_received_at", "incidents", ["status", "received_at"])

    op.create_table(
        "reports",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("citizen_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("category", sa.String(32), sa.ForeignKey("categories.code"), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        *_point(),
        sa.Column("h3_r9", sa.BigInteger, nullable=False),
        sa.Column("h3_r7", sa.BigInteger, nullable=False),
        sa.Column("reporter_lat", sa.Float, nullable=False),
        sa.Column("reporter_lon", sa.Float, nullable=False),
        sa.Column("reporter_accuracy_m", sa.Float),
        sa.Column("photo_sha256", sa.String(64)),
        sa.Column("photo_type", sa.String(16)),
        sa.Column("device_id", sa.String(128)),
        sa.Column("user_agent", sa.String(300)),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False, server_default="received"),
        sa.Column("review_note", sa.Text),
        sa.Column("incident_id", sa.BigInteger, sa.ForeignKey("incidents.id", ondelete="SET NULL")),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("reviewed_at", TZ),
        sa.Column("reviewed_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.CheckConstraint("status IN ('received','verified','rejected','false')", name="status"),
    )
    op.create_index("ix_reports_geog", "reports", ["geog"], postgresql_using="gist")
    op.create_index("ix_reports_h3_r9", "reports", ["h3_r9"])
    op.create_index("ix_reports_h3_r7", "reports", ["h3_r7"])
    op.create_index("ix_reports_citizen_id", "reports", ["citizen_id"])
    op.create_index("ix_reports_incident_id", "reports", ["incident_id"])
    op.create_index("ix_reports_status_created_at", "reports", ["status", "created_at"])

    op.create_table(
        "sos_calls",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("citizen_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column(
            "incident_id", sa.BigInteger, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("device_id", sa.String(128)),
        sa.Column("user_agent", sa.String(300)),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("last_fix_at", TZ),
    )
    op.create_index("ix_sos_calls_citizen_id", "sos_calls", ["citizen_id"])
    op.create_index("ix_sos_calls_incident_id", "sos_calls", ["incident_id"])
    op.create_table(
        "sos_points",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("sos_id", sa.BigInteger, sa.ForeignKey("sos_calls.id", ondelete="CASCADE"), nullable=False),
        *_point(),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_sos_points_sos_id_recorded_at", "sos_points", ["sos_id", "recorded_at"])

    op.create_table(
        "offers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "incident_id", sa.BigInteger, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "officer_id", sa.BigInteger, sa.ForeignKey("officers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempt", sa.SmallInteger, nullable=False, server_default="1"),
        sa.Column("distance_m", sa.Float),
        sa.Column("eta_s", sa.Float),
        sa.Column("created_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("responded_at", TZ),
        sa.CheckConstraint(
            "status IN ('pending','accepted','declined','expired','cancelled','completed')", name="status"
        ),
    )
    op.create_index("ix_offers_incident_id", "offers", ["incident_id"])
    op.create_index(
        "uq_offers_active_incident", "offers", ["incident_id"], unique=True, postgresql_where=ACTIVE_OFFER
    )
    op.create_index(
        "uq_offers_active_officer", "offers", ["officer_id"], unique=True, postgresql_where=ACTIVE_OFFER
    )
    op.create_index(
        "ix_offers_pending_expires_at",
        "offers",
        ["expires_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.BigInteger, nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_state", sa.String(32)),
        sa.Column("to_state", sa.String(32)),
        sa.Column("actor_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("reason", sa.Text),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        sa.Column("at", TZ, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("offers")
    op.drop_table("sos_points")
    op.drop_table("sos_calls")
    op.drop_table("reports")
    op.drop_table("incidents")
    op.drop_table("categories")
