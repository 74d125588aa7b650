"""Several units per incident: an incident needs a number of units; each unit is an accepted offer with its
own CAD times (en route, on scene, cleared). An officer is still on one incident at a time, and on an
incident at most once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('pending','accepted')"


def upgrade() -> None:
    op.add_column("incidents", sa.Column("units_needed", sa.SmallInteger, nullable=False, server_default="1"))
    for column in ("en_route_at", "on_scene_at", "cleared_at"):
        op.add_column("offers", sa.Column(column, sa.DateTime(timezone=True)))
    op.drop_index("uq_offers_active_incident", table_name="offers")
    op.create_index(
        "uq_offers_active_incident_officer",
        "offers",
        ["incident_id", "officer_id"],
        unique=True,
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_offers_active_incident_officer", table_name="offers")
    op.create_index(
        "uq_offers_active_incident", "offers", ["incident_id"], unique=True, postgresql_where=sa.text(ACTIVE)
    )
    for column in ("cleared_at", "on_scene_at", "en_route_at"):
        op.drop_column("offers", column)
    op.drop_column("incidents", "units_needed")
