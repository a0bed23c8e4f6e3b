"""exposure checks: the share of synthetic users a target really serves after each change, next to
the share launchdeck intended

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exposurecheck",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.Column("flag", sa.String(length=200), nullable=False),
        sa.Column("intended", sa.Integer(), nullable=False),
        sa.Column("observed", sa.Float(), nullable=True),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["launch_id"], ["launch.id"]),
        sa.ForeignKeyConstraint(["rollout_id"], ["regionrollout.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exposurecheck", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exposurecheck_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exposurecheck_rollout_id"), ["rollout_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exposurecheck", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exposurecheck_rollout_id"))
        batch_op.drop_index(batch_op.f("ix_exposurecheck_launch_id"))
    op.drop_table("exposurecheck")
