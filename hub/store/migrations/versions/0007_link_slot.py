"""One deal may have several projects (issue 20, part 4): a link names its slot.

A link is unique per handoff, source, target system and slot: ``""`` for a
source's only project (every link made before), else the key of the template
the project was made from. A downgrade fails while a source has several links.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD = ["handoff", "source_system", "source_id", "target_system"]


def _links_before() -> sa.Table:
    """The links table as revision 0006 left it (offline SQL cannot reflect it)."""
    return sa.Table(
        "links",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("handoff", sa.String(length=64), nullable=False),
        sa.Column("source_system", sa.String(length=64), nullable=False),
        sa.Column("source_object", sa.String(length=128), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("target_system", sa.String(length=64), nullable=False),
        sa.Column("target_object", sa.String(length=128), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=False),
        sa.Column("target_key", sa.String(length=255), nullable=True),
        sa.Column("target_url", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(*_OLD, name="uq_link"),
        sa.Index("ix_links_target", "target_system", "target_id"),
        sa.Index("ix_links_target_key", "target_system", "target_key"),
    )


def upgrade() -> None:
    copy_from = _links_before() if context.is_offline_mode() else None
    with op.batch_alter_table("links", schema=None, copy_from=copy_from) as batch_op:
        batch_op.add_column(
            sa.Column("slot", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_link", type_="unique")
        batch_op.create_unique_constraint("uq_link", [*_OLD, "slot"])


def downgrade() -> None:
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_constraint("uq_link", type_="unique")
        batch_op.create_unique_constraint("uq_link", _OLD)
        batch_op.drop_column("slot")
