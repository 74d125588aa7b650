"""Open311 as FixMyStreet speaks it: a request's address_id, whether it still needs placing on the map
(filed with an address and no lat/long), the fingerprint and client id a retried POST is known by; and the
updates of FixMyStreet's extension that are not status changes (citizens' updates, public notes).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("open311_requests", sa.Column("address_id", sa.String(100)))
    op.add_column(
        "open311_requests",
        sa.Column("location_pending", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("open311_requests", sa.Column("fingerprint", sa.String(64)))
    op.add_column("open311_requests", sa.Column("client_request_id", sa.String(200)))
    op.create_index(
        "ix_open311_requests_api_key_id_fingerprint", "open311_requests", ["api_key_id", "fingerprint"]
    )
    op.create_index(
        "ix_open311_requests_api_key_id_client_request_id",
        "open311_requests",
        ["api_key_id", "client_request_id"],
    )
    op.create_index(
        "ix_open311_requests_location_pending",
        "open311_requests",
        ["report_id"],
        postgresql_where=sa.text("location_pending"),
    )
    op.create_table(
        "open311_updates",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "report_id", sa.BigInteger, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("api_key_id", sa.BigInteger, sa.ForeignKey("api_keys.id", ondelete="SET NULL")),
        sa.Column("client_update_id", sa.String(100)),
        sa.Column("author_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("status", sa.String(32)),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("media_url", sa.String(1000)),
        sa.Column("first_name", sa.String(100)),
        sa.Column("last_name", sa.String(100)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(32)),
        sa.Column("updated_at", TZ),
        sa.Column("incident_note_id", sa.BigInteger, sa.ForeignKey("incident_notes.id", ondelete="SET NULL")),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('citizen','public_note')", name="kind"),
    )
    op.create_index("ix_open311_updates_report_id", "open311_updates", ["report_id", "id"])
    op.create_index("ix_open311_updates_created_at", "open311_updates", ["created_at"])
    op.create_index(
        "uq_open311_updates_api_key_id_client_update_id",
        "open311_updates",
        ["api_key_id", "client_update_id"],
        unique=True,
        postgresql_where=sa.text("client_update_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("open311_updates")
    op.drop_index("ix_open311_requests_location_pending", table_name="open311_requests")
    op.drop_index("ix_open311_requests_api_key_id_client_request_id", table_name="open311_requests")
    op.drop_index("ix_open311_requests_api_key_id_fingerprint", table_name="open311_requests")
    for column in ("client_request_id", "fingerprint", "location_pending", "address_id"):
        op.drop_column("open311_requests", column)
