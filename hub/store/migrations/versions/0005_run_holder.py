"""Runs remember the lease holder that ran them, so a run whose holder died is shown crashed.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("holder", sa.String(length=64), nullable=True))
    op.create_index("ix_runs_holder", "runs", ["holder"])


def downgrade() -> None:
    op.drop_index("ix_runs_holder", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("holder")
