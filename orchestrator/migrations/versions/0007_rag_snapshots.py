"""rag snapshots: one RAG per launch and day, for the dashboard's trend since last week; a
covering index for the portfolio's per-region item counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ragsnapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("rag", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["launch_id"], ["launch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("launch_id", "day"),
    )
    with op.batch_alter_table("ragsnapshot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ragsnapshot_launch_id"), ["launch_id"], unique=False)
    # Covering index for the per-region open-item counts the portfolio reads for every launch.
    op.create_index(
        "ix_checklistitem_rollup",
        "checklistitem",
        ["launch_id", "rollout_id", "status", "blocking", "due_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_checklistitem_rollup", table_name="checklistitem")
    with op.batch_alter_table("ragsnapshot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ragsnapshot_launch_id"))
    op.drop_table("ragsnapshot")
