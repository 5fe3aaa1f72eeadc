"""Links are found by their target's key too (reconcile, webhooks): index it.

Without it, a lookup of links by target id or key scanned the whole links
table once per 500 keys: 40 s of a reconcile of 100k linked pairs.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_links_target_key", "links", ["target_system", "target_key"])


def downgrade() -> None:
    op.drop_index("ix_links_target_key", table_name="links")
