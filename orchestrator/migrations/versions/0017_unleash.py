"""unleash: which rollout target took each exposure change, and what it answered when read back

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exposurechange", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target", sa.String(length=40), nullable=False, server_default="recording"))
        batch_op.add_column(sa.Column("answer", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exposurechange", schema=None) as batch_op:
        batch_op.drop_column("answer")
        batch_op.drop_column("target")
