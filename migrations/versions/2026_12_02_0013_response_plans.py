"""Response plans (run cards): the units an incident of a category and priority needs, and its agencies.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "response_plans",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("category", sa.String(32), nullable=False, index=True),
        sa.Column("priority", sa.SmallInteger),
        sa.Column("sector_code", sa.String(64)),
        sa.Column("units", sa.SmallInteger, nullable=False, server_default="1"),
        sa.Column("unit_types", postgresql.ARRAY(sa.String(16)), nullable=False, server_default="{}"),
        sa.Column("forward_to", postgresql.ARRAY(sa.String(64)), nullable=False, server_default="{}"),
        sa.Column("suggest", postgresql.ARRAY(sa.String(64)), nullable=False, server_default="{}"),
        sa.Column("welfare_interval_s", sa.Integer),
        sa.Column("active", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("units BETWEEN 0 AND 10", name=op.f("ck_response_plans_units")),
        sa.CheckConstraint(
            "priority IS NULL OR priority BETWEEN 1 AND 5", name=op.f("ck_response_plans_priority")
        ),
    )


def downgrade() -> None:
    op.drop_table("response_plans")
