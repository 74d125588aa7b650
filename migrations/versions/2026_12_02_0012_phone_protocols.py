"""Phone protocols as the real clients speak them: approximate fixes in history, presence from any
report, OwnTracks payload keys per device.

* ``pings.approximate``: NULL for a fix that may move the officer's latest position; otherwise why it may
  not (``invalid``: the phone said valid=false; ``last_known``: no fix at all, a heartbeat or a
  cell/Wi-Fi-only message, stored at the last known position).
* ``officer_positions.seen_at``: the phone's time of its latest report of any kind (a heartbeat too);
  presence reads the later of it and the fix's own time.
* ``devices.owntracks_key``: the 32-byte libsodium secret-box key of an OwnTracks phone that encrypts
  its payloads (never returned by the API).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable without a default: a catalogue-only change, also on the partitioned history.
    op.add_column("pings", sa.Column("approximate", sa.String(16)))
    op.add_column("officer_positions", sa.Column("seen_at", sa.DateTime(timezone=True)))
    op.add_column("devices", sa.Column("owntracks_key", sa.LargeBinary))
    op.create_check_constraint(
        op.f("ck_devices_owntracks_key_length"),
        "devices",
        "owntracks_key IS NULL OR length(owntracks_key) = 32",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_devices_owntracks_key_length"), "devices", type_="check")
    op.drop_column("devices", "owntracks_key")
    op.drop_column("officer_positions", "seen_at")
    op.drop_column("pings", "approximate")
