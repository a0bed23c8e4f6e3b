"""readiness forecasts: each forecast of a region's next gate, kept to show its accuracy later

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 12:00:00

It only adds its own table; it follows 0019 (team capacity and holiday countries) to keep one line.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "forecast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("launch_id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phase_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("projected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_blocking", sa.Integer(), nullable=False),
        sa.Column("rate_per_day", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["launch_id"], ["launch.id"]),
        sa.ForeignKeyConstraint(["rollout_id"], ["regionrollout.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("forecast", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_forecast_launch_id"), ["launch_id"], unique=False)
        batch_op.create_index("ix_forecast_latest", ["rollout_id", "confirmed_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("forecast", schema=None) as batch_op:
        batch_op.drop_index("ix_forecast_latest")
        batch_op.drop_index(batch_op.f("ix_forecast_launch_id"))
    op.drop_table("forecast")
