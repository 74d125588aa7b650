"""The incident desk: incidents taken by call-takers and officers (more sources), a version for edits
that must not overwrite a change the editor has not seen, and narrative notes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_SOURCES = "source IN ('report','sos','officer_sos')"
NEW_SOURCES = "source IN ('report','sos','officer_sos','phone','radio','walk_in','officer','other')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_incidents_source"), "incidents", type_="check")
    op.create_check_constraint(op.f("ck_incidents_source"), "incidents", NEW_SOURCES)
    op.add_column("incidents", sa.Column("version", sa.Integer, nullable=False, server_default="1"))
    op.create_table(
        "incident_notes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "incident_id", sa.BigInteger, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("author_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("author_role", sa.String(16), nullable=False),
        sa.Column("author_name", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_incident_notes_incident_id", "incident_notes", ["incident_id", "id"])


def downgrade() -> None:
    op.drop_table("incident_notes")
    op.drop_column("incidents", "version")
    op.drop_constraint(op.f("ck_incidents_source"), "incidents", type_="check")
    op.create_check_constraint(op.f("ck_incidents_source"), "incidents", OLD_SOURCES)
