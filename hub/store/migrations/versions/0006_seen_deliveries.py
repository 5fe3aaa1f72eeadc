"""Webhook deliveries accepted within the replay window, so a restart still refuses a replay.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_deliveries",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_seen_deliveries_seen_at", "seen_deliveries", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_seen_deliveries_seen_at", table_name="seen_deliveries")
    op.drop_table("seen_deliveries")
