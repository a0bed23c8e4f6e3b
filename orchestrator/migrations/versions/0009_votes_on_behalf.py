"""votes on behalf: who recorded a vote given elsewhere (a go/no-go meeting) on behalf of its
approver, and why; a vote otherwise counts for the person who cast it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("on_behalf_reason", sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("on_behalf_reason")
        batch.drop_column("recorded_by")
