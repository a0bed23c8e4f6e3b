"""instant wake: on PostgreSQL, triggers on the outbox send NOTIFY launchdeck_wake (payload: the
topic) for rows queued (item topics excepted) or made pending again, so workers hear of due work
when it is committed (orchestrator/core/wake.py); SQLite needs nothing (its watcher reads PRAGMA
data_version)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 12:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of orchestrator.core.wake.CHANNEL as of this revision.
CHANNEL = "launchdeck_wake"

# Frozen copy of orchestrator.core.wake.QUIET_TOPICS as of this revision: the item topics, written
# by every check-off. NOTIFY serializes the commits that send it (PostgreSQL takes a database-wide
# lock at commit for it), which halved the commits per second of a one-row insert here; the
# changes that move a region (a gate passed, a region ready) queue topics of their own, and what
# the item topics ask for (Slack updates) waits for the next poll.
QUIET_TOPICS = "item.%"

# One NOTIFY per distinct topic of a statement's new rows (PostgreSQL also folds identical
# notifications of one transaction into one). Statement-level with a transition table: a bulk
# insert of a thousand reminders costs one trigger call, not a thousand.
QUEUED = f"""
CREATE FUNCTION launchdeck_wake_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', topic)
    FROM (SELECT DISTINCT topic FROM queued WHERE topic NOT LIKE '{QUIET_TOPICS}') AS topics;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_wake_queued AFTER INSERT ON outbox
    REFERENCING NEW TABLE AS queued FOR EACH STATEMENT EXECUTE FUNCTION launchdeck_wake_queued();
"""

# A row made pending again (a dead intent retried by hand). Row-level: PostgreSQL takes no
# transition table with a column list, and the WHEN clause keeps every other update (claims, marks)
# from calling it at all.
PENDING_AGAIN = f"""
CREATE FUNCTION launchdeck_wake_pending_again() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.topic);
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_wake_pending_again AFTER UPDATE OF status ON outbox
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending')
    EXECUTE FUNCTION launchdeck_wake_pending_again();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(QUEUED)
    op.execute(PENDING_AGAIN)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_wake_pending_again ON outbox")
    op.execute("DROP FUNCTION IF EXISTS launchdeck_wake_pending_again()")
    op.execute("DROP TRIGGER IF EXISTS outbox_wake_queued ON outbox")
    op.execute("DROP FUNCTION IF EXISTS launchdeck_wake_queued()")
