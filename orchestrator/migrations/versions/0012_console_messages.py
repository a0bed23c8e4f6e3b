"""console messages: what the console transport showed in place of Slack, so the dashboard (another
process than the worker) can list it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consolemessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=80), nullable=False),
        sa.Column("ts", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("blocks", sa.JSON(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "ts"),
    )
    with op.batch_alter_table("consolemessage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consolemessage_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("consolemessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consolemessage_updated_at"))
    op.drop_table("consolemessage")
