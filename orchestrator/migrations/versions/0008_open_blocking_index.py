"""open blocking items index: a partial index of the open blocking checklist items by region and
due date, so the portfolio counts them per region with index seeks instead of reading every item

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 07:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of orchestrator.core.models.OPEN_BLOCKING_ITEM as of this revision.
OPEN_BLOCKING_ITEM = "blocking IS TRUE AND status NOT IN ('done', 'n_a', 'waived')"


def upgrade() -> None:
    op.create_index(
        "ix_checklistitem_open_blocking",
        "checklistitem",
        ["rollout_id", "due_at", "blocking", "status"],
        unique=False,
        sqlite_where=sa.text(OPEN_BLOCKING_ITEM),
        postgresql_where=sa.text(OPEN_BLOCKING_ITEM),
    )


def downgrade() -> None:
    op.drop_index("ix_checklistitem_open_blocking", table_name="checklistitem")
