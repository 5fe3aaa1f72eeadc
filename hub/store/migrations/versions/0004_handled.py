"""Handled records of each incremental read within its look-back window.

A read starts a window before its cursor so that records committed late with
an older modified time are found; this table tells which of them were already
handled, at which version.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled",
        sa.Column("cursor", sa.String(length=255), nullable=False),
        sa.Column("record_id", sa.String(length=255), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("cursor", "record_id"),
    )
    op.create_index("ix_handled_modified", "handled", ["cursor", "modified_at"])


def downgrade() -> None:
    op.drop_index("ix_handled_modified", table_name="handled")
    op.drop_table("handled")
