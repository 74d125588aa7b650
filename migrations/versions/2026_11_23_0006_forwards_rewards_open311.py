"""Forwards to agencies (with notes and agency logins), reward points, Open311 API keys and requests, and the
rate-limit counters.

State changes of forwards go to audit_log (migration 0003).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _now(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, TZ, nullable=False, server_default=sa.func.now())


def _user_fk(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL"))


def _agency_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "agency_id", sa.BigInteger, sa.ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "agency_users",
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        _agency_fk(),
        _now("created_at"),
    )
    op.create_index("ix_agency_users_agency_id", "agency_users", ["agency_id"])

    op.create_table(
        "forwards",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "incident_id", sa.BigInteger, sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False
        ),
        _agency_fk(),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("delivery", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failure_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("next_attempt_at", TZ),
        sa.Column("last_attempt_at", TZ),
        sa.Column("sent_at", TZ),
        sa.Column("acknowledged_at", TZ),
        _user_fk("acknowledged_by"),
        sa.Column("closed_at", TZ),
        _user_fk("closed_by"),
        sa.Column("ack_alerted_at", TZ),
        sa.Column("note", sa.Text),
        _user_fk("created_by"),
        _now("created_at"),
        _now("updated_at"),
        sa.UniqueConstraint("incident_id", "agency_id", name="uq_forwards_incident_agency"),
        sa.CheckConstraint("status IN ('pending','sent','failed','acknowledged','closed')", name="status"),
        sa.CheckConstraint("role IN ('responsible','always_notify','hospital','manual')", name="role"),
        sa.CheckConstraint("delivery IN ('inbox','webhook','both')", name="delivery"),
    )
    op.create_index("ix_forwards_agency_id", "forwards", ["agency_id", "id"])
    op.create_index(
        "ix_forwards_due", "forwards", ["next_attempt_at"], postgresql_where=sa.text("status = 'pending'")
    )
    op.create_index(
        "ix_forwards_unacknowledged",
        "forwards",
        ["created_at"],
        postgresql_where=sa.text(
            "acknowledged_at IS NULL AND ack_alerted_at IS NULL AND status IN ('pending','sent','failed')"
        ),
    )
    op.create_table(
        "forward_notes",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "forward_id", sa.BigInteger, sa.ForeignKey("forwards.id", ondelete="CASCADE"), nullable=False
        ),
        _user_fk("author_id"),
        sa.Column("text", sa.Text, nullable=False),
        _now("created_at"),
    )
    op.create_index("ix_forward_notes_forward_id", "forward_notes", ["forward_id"])

    op.create_table(
        "reward_awards",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("report_id", sa.BigInteger, sa.ForeignKey("reports.id", ondelete="SET NULL")),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        _now("created_at"),
        sa.UniqueConstraint("report_id", name="uq_reward_awards_report_id"),
    )
    op.create_index("ix_reward_awards_user_id", "reward_awards", ["user_id"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        _now("created_at"),
        sa.Column("revoked_at", TZ),
        sa.Column("last_used_at", TZ),
        sa.UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
    )
    op.create_table(
        "open311_requests",
        sa.Column(
            "report_id", sa.BigInteger, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("api_key_id", sa.BigInteger, sa.ForeignKey("api_keys.id", ondelete="SET NULL")),
        sa.Column("jurisdiction_id", sa.String(32)),
        sa.Column("account_id", sa.String(100)),
        sa.Column("email", sa.String(254)),
        sa.Column("first_name", sa.String(100)),
        sa.Column("last_name", sa.String(100)),
        sa.Column("phone", sa.String(32)),
        sa.Column("device_id", sa.String(128)),
        sa.Column("media_url", sa.String(1000)),
        sa.Column("attributes", JSONB, nullable=False, server_default="{}"),
        _now("created_at"),
    )

    # Counters only: losing them in a crash costs nothing, so the table skips the WAL.
    op.create_table(
        "rate_limit_hits",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("bucket", sa.BigInteger, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_rate_limit_hits_expires_at", "rate_limit_hits", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_limit_hits")
    op.drop_table("open311_requests")
    op.drop_table("api_keys")
    op.drop_table("reward_awards")
    op.drop_table("forward_notes")
    op.drop_table("forwards")
    op.drop_table("agency_users")
