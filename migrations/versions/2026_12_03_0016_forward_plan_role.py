"""A forward made because the incident's response plan names the agency has the role ``plan``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BEFORE = "role IN ('responsible','always_notify','hospital','manual')"
AFTER = "role IN ('responsible','always_notify','hospital','plan','manual')"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_forwards_role"), "forwards", type_="check")
    op.create_check_constraint(op.f("ck_forwards_role"), "forwards", AFTER)


def downgrade() -> None:
    op.execute("UPDATE forwards SET role = 'manual' WHERE role = 'plan'")
    op.drop_constraint(op.f("ck_forwards_role"), "forwards", type_="check")
    op.create_check_constraint(op.f("ck_forwards_role"), "forwards", BEFORE)
