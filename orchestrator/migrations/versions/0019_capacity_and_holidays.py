"""planning: a team's capacity (open items per week) for the GTM load view, the countries whose
public holidays a region's phase dates should avoid, and a partial index of the open items by team
and due date that the load counts from

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of orchestrator.core.models.OPEN_ITEM as of this revision.
OPEN_ITEM = "status NOT IN ('done', 'n_a', 'waived')"


def upgrade() -> None:
    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity_per_week", sa.Integer(), nullable=True))

    # Existing regions get no countries: `launchdeck init` (the seed) fills the built-in ones.
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holiday_countries", sa.JSON(), nullable=False, server_default="[]"))

    op.create_index(
        "ix_checklistitem_open_team_due",
        "checklistitem",
        ["owner_team_id", "due_at", "launch_id"],
        unique=False,
        sqlite_where=sa.text(OPEN_ITEM),
        postgresql_where=sa.text(OPEN_ITEM),
    )


def downgrade() -> None:
    op.drop_index("ix_checklistitem_open_team_due", table_name="checklistitem")

    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_column("holiday_countries")

    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("capacity_per_week")
