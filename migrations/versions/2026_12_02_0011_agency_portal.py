"""The agency portal: a forward may be in progress (the agency is on the way / working), is closed with an
outcome, may carry the caller's phone when the dispatcher chose to include it; an agency's note may carry a
photo; an agency may have its own acknowledgement SLA (agency_slas; without one, forward_ack_timeout_s).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
OLD_STATUSES = "status IN ('pending','sent','failed','acknowledged','closed')"
NEW_STATUSES = "status IN ('pending','sent','failed','acknowledged','in_progress','closed')"
OUTCOMES = "outcome IN ('resolved','no_action_needed','not_found','not_responsible','referred')"


def _user_fk(column: str) -> sa.Column[int]:
    return sa.Column(column, sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL"))


def upgrade() -> None:
    op.drop_constraint(op.f("ck_forwards_status"), "forwards", type_="check")
    op.create_check_constraint(op.f("ck_forwards_status"), "forwards", NEW_STATUSES)
    op.add_column("forwards", sa.Column("started_at", TZ))
    op.add_column("forwards", _user_fk("started_by"))
    op.add_column("forwards", sa.Column("outcome", sa.String(24)))
    op.create_check_constraint(op.f("ck_forwards_outcome"), "forwards", OUTCOMES)
    op.add_column(
        "forwards",
        sa.Column("include_caller_phone", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("forwards", sa.Column("caller_phone", sa.String(40)))
    op.add_column("forward_notes", sa.Column("photo_sha256", sa.String(64)))
    op.add_column("forward_notes", sa.Column("photo_type", sa.String(8)))
    op.create_check_constraint(
        op.f("ck_forward_notes_photo_type"), "forward_notes", "photo_type IN ('jpeg','png')"
    )
    op.create_table(
        "agency_slas",
        sa.Column(
            "agency_id",
            sa.BigInteger,
            sa.ForeignKey("agencies.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("ack_minutes", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        _user_fk("updated_by"),
        sa.CheckConstraint("ack_minutes BETWEEN 1 AND 10080", name="ack_minutes"),
    )


def downgrade() -> None:
    op.drop_table("agency_slas")
    op.drop_constraint(op.f("ck_forward_notes_photo_type"), "forward_notes", type_="check")
    op.drop_column("forward_notes", "photo_type")
    op.drop_column("forward_notes", "photo_sha256")
    op.drop_column("forwards", "caller_phone")
    op.drop_column("forwards", "include_caller_phone")
    op.drop_constraint(op.f("ck_forwards_outcome"), "forwards", type_="check")
    op.drop_column("forwards", "outcome")
    op.drop_column("forwards", "started_by")
    op.drop_column("forwards", "started_at")
    op.execute("UPDATE forwards SET status = 'acknowledged' WHERE status = 'in_progress'")
    op.drop_constraint(op.f("ck_forwards_status"), "forwards", type_="check")
    op.create_check_constraint(op.f("ck_forwards_status"), "forwards", OLD_STATUSES)
