"""launch targets: a launch (or one of its regions) names its rollout target and flag key

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("launch", "regionrollout"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("rollout_target", sa.String(length=20), nullable=True))
            batch_op.add_column(sa.Column("flag_key", sa.String(length=100), nullable=True))


def downgrade() -> None:
    for table in ("regionrollout", "launch"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("flag_key")
            batch_op.drop_column("rollout_target")
