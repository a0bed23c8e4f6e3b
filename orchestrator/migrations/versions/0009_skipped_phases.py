"""skipped phases: the phases a region skips on purpose, kept on its rollout so every view can show
them as skipped (a phase without a date used to be skipped without a word)

The column gets a server default so databases with rows upgrade cleanly, then regions created
before this revision are backfilled: a phase they have no date for was skipped (silently, then).

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

# Frozen copy of orchestrator.core.enums.Phase.ordered() as of this revision.
PHASES = ("internal", "private_beta", "public_beta", "ga")


def upgrade() -> None:
    with op.batch_alter_table("regionrollout", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped_phases", sa.JSON(), nullable=False, server_default="[]"))
    _backfill()


def _backfill() -> None:
    """Existing regions skip the phases they have no date for, as they always did."""
    bind = op.get_bind()
    dated: dict[int, set[str]] = {}
    for rollout_id, phase in bind.execute(sa.text("SELECT rollout_id, phase FROM phasedate")):
        dated.setdefault(rollout_id, set()).add(phase)
    rollout = sa.table("regionrollout", sa.column("id", sa.Integer()), sa.column("skipped_phases", sa.JSON()))
    for (rollout_id,) in bind.execute(sa.text("SELECT id FROM regionrollout")):
        skipped = [phase for phase in PHASES if phase not in dated.get(rollout_id, set())]
        if skipped:
            bind.execute(rollout.update().where(rollout.c.id == rollout_id).values(skipped_phases=skipped))


def downgrade() -> None:
    with op.batch_alter_table("regionrollout", schema=None) as batch_op:
        batch_op.drop_column("skipped_phases")
