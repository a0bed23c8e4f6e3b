"""slack inbox notify: on PostgreSQL, a trigger on slackinteraction sends NOTIFY
launchdeck_slack_inbox when a statement records clicks to apply (pending rows), so the Slack
applier process (`launchdeck slack-applier`) hears of them when they are committed
(orchestrator/core/wake.py, the mechanism of 0021); SQLite needs nothing (PRAGMA data_version)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copy of orchestrator.core.wake.INBOX_CHANNEL as of this revision.
CHANNEL = "launchdeck_slack_inbox"

# One NOTIFY per statement that recorded pending rows (the API writes a burst of clicks in one
# INSERT, api/slack_recording.py): statement-level with a transition table, so 50 clicks cost one
# trigger call. Rows recorded already done (modal submissions, commands answered inline) have
# nothing left to apply and send nothing. No payload: the applier only needs to look.
RECORDED = f"""
CREATE FUNCTION launchdeck_inbox_recorded() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM recorded WHERE status = 'pending') THEN
        PERFORM pg_notify('{CHANNEL}', '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER slackinteraction_recorded AFTER INSERT ON slackinteraction
    REFERENCING NEW TABLE AS recorded FOR EACH STATEMENT EXECUTE FUNCTION launchdeck_inbox_recorded();
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(RECORDED)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS slackinteraction_recorded ON slackinteraction")
    op.execute("DROP FUNCTION IF EXISTS launchdeck_inbox_recorded()")
