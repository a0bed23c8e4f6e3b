"""login links: one-time dashboard sign-in links that `/launch login` sends in a Slack DM (hashed,
expiring, used once)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "loginlink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("loginlink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_loginlink_member_id"), ["member_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("loginlink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loginlink_member_id"))
    op.drop_table("loginlink")
