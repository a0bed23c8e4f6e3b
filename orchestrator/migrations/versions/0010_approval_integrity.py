"""approval integrity: who recorded a vote given elsewhere (a go/no-go meeting) on behalf of its
approver, and why; votes voided when what they approved changed; approval quorum rules

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.add_column(sa.Column("recorded_by", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("on_behalf_reason", sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("void_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("gate") as batch:
        batch.add_column(sa.Column("quorum", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("distinct_teams", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("gate") as batch:
        batch.drop_column("distinct_teams")
        batch.drop_column("quorum")
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("void_reason")
        batch.drop_column("voided_at")
        batch.drop_column("on_behalf_reason")
        batch.drop_column("recorded_by")
