"""Categories edited in the admin console: reward points per category (null = the settings' points) and a
numeric id for the audit log (the code stays the key).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("categories", sa.Column("reward_points", sa.SmallInteger))
    op.create_check_constraint(
        op.f("ck_categories_reward_points"), "categories", "reward_points BETWEEN 0 AND 1000"
    )
    op.add_column("categories", sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False))
    op.create_unique_constraint(op.f("uq_categories_id"), "categories", ["id"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_categories_id"), "categories", type_="unique")
    op.drop_column("categories", "id")
    op.drop_constraint(op.f("ck_categories_reward_points"), "categories", type_="check")
    op.drop_column("categories", "reward_points")
