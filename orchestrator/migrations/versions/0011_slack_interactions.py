"""slack interactions: every click, submission and command recorded before Slack is answered, and
applied from there (exactly once, in order per item)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slackinteraction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("slack_user_id", sa.String(length=40), nullable=False),
        sa.Column("ordering_key", sa.String(length=80), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=2000), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_slackinteraction_status_id", "slackinteraction", ["status", "id"], unique=False)
    op.create_index("ix_slackinteraction_key_id", "slackinteraction", ["ordering_key", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_slackinteraction_key_id", table_name="slackinteraction")
    op.drop_index("ix_slackinteraction_status_id", table_name="slackinteraction")
    op.drop_table("slackinteraction")
