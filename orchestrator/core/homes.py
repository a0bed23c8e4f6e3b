"""Whose Slack App Home to republish, and when: the bookkeeping behind keeping Homes current.

A Home shows a person's pending votes, their team's open items and the launches they own. It is
published when they open it (Slack's ``app_home_opened``), and republished when something it shows
changes, but only for people who have opened it (``HomeView``): nobody pays for Homes never seen.

No change pays for this either. The changes a Home shows already queue outbox rows (an item
checked, a vote cast or voided, an approval requested, a region moving on); the Home refresher
reads them behind a cursor (``HOMES_CURSOR``, like the Prefect events publisher) instead of each
service asking "has anyone opened a Home?" in its transaction (a check-off's statements are
counted: tests/api/test_checkoff_cost.py). Only a change no other topic carries queues
``Topic.HOME_REFRESH`` (an approval gate's approvers changed). A burst collapses: a pass
republishes each person's Home once, however many of their rows it read.

Best effort, on purpose: the cursor moves on before the Homes are published, so a failed publish
is not retried (the Home is rebuilt the next time its person opens it).
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from orchestrator.core.enums import OutboxStatus
from orchestrator.core.models import ChecklistItem, DeliveryCursor, Gate, HomeView, Launch, Member, Outbox
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction

HOMES_CURSOR = "slack-homes"
READ_LIMIT = 500  # outbox rows one pass reads

ITEM_TOPICS = frozenset(
    {
        Topic.ITEM_CHECKED,
        Topic.ITEM_REOPENED,
        Topic.ITEM_STARTED,
        Topic.ITEM_BLOCKED,
        Topic.ITEM_NOT_APPLICABLE,
        Topic.ITEM_WAIVED,
        Topic.ITEM_ASSIGNED,
    }
)
GATE_TOPICS = frozenset(
    {
        Topic.DECISION_GO,
        Topic.DECISION_CONDITIONAL_GO,
        Topic.DECISION_NO_GO,
        Topic.DECISION_VOIDED,
        Topic.DECISION_CONFIRMATION_NEEDED,
        Topic.APPROVAL_REQUESTED,
        Topic.GATE_PASSED,
        Topic.HOME_REFRESH,
    }
)
# What changes a launch owner's list (each region's state and next gate).
OWNER_TOPICS = frozenset(
    {
        Topic.LAUNCH_KICKED_OFF,
        Topic.LAUNCH_COMPLETED,
        Topic.GATE_OPENED,
        Topic.GATE_PASSED,
        Topic.ROLLOUT_READY,
        Topic.ROLLOUT_GATED,
        Topic.ROLLOUT_EXPOSURE_CHANGED,
        Topic.ROLLOUT_LIVE,
        Topic.ROLLOUT_HALTED,
        Topic.ROLLOUT_RESUMED,
        Topic.ROLLOUT_ROLLED_BACK,
    }
)


def note_home_opened(session: Session, *, slack_user_id: str, now: datetime) -> None:
    """Remember that this Slack user looks at their Home (so it is kept current from now on)."""
    with transaction(session):
        seen = session.get(HomeView, slack_user_id)
        if seen is None:
            session.add(HomeView(slack_user_id=slack_user_id, opened_at=now))
        else:
            seen.opened_at = now


def queue_home_refresh(session: Session, *, key: str, launch_id: int | None, emails: Iterable[str]) -> None:
    """For a change no other Home topic carries: republish these people's Homes. Inside the
    changing service's transaction."""
    people = sorted(set(emails))
    if people:
        enqueue(session, key=key, topic=Topic.HOME_REFRESH, launch_id=launch_id, payload={"emails": people})


def homes_to_refresh(session: Session, *, now: datetime, limit: int = READ_LIMIT) -> list[str]:
    """Move the cursor over the outbox rows queued since the last pass and return the Slack users
    (who opened their Home) those rows concern, each once. ``HOME_REFRESH`` rows are marked sent."""
    with transaction(session):
        cursor = session.get(DeliveryCursor, HOMES_CURSOR, with_for_update=True)
        if cursor is None:
            cursor = DeliveryCursor(name=HOMES_CURSOR, last_outbox_id=0)
            session.add(cursor)
            session.flush()
        if session.exec(select(HomeView.slack_user_id).limit(1)).first() is None:
            # Nobody has opened a Home: skip everything queued so far, at the cost of one read.
            newest = session.exec(select(func.max(Outbox.id))).one() or 0
            if newest > cursor.last_outbox_id:
                cursor.last_outbox_id, cursor.updated_at = newest, now
            return []
        rows = session.exec(
            select(Outbox.id, Outbox.topic, Outbox.launch_id, Outbox.payload)
            .where(col(Outbox.id) > cursor.last_outbox_id)
            .order_by(col(Outbox.id))
            .limit(limit)
        ).all()
        if not rows:
            return []
        cursor.last_outbox_id = max(row_id for row_id, *_rest in rows if row_id is not None)
        cursor.updated_at = now
        refreshes = [row_id for row_id, topic, *_rest in rows if topic == Topic.HOME_REFRESH]
        if refreshes:
            session.execute(
                update(Outbox)
                .where(col(Outbox.id).in_(refreshes), col(Outbox.status) == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENT, delivered_at=now)
            )
        return _concerned(session, [(str(topic), launch_id, payload) for _id, topic, launch_id, payload in rows])


def _concerned(session: Session, rows: Sequence[tuple[str, int | None, Mapping[str, Any]]]) -> list[str]:
    """The Slack users with a Home whom these rows concern: the owning team and assignee of a
    changed item, the approvers of a gate voted on, the owner of a launch whose regions moved."""
    item_ids = {int(payload["item_id"]) for topic, _l, payload in rows if topic in ITEM_TOPICS and "item_id" in payload}
    gate_ids = {int(payload["gate_id"]) for topic, _l, payload in rows if topic in GATE_TOPICS and "gate_id" in payload}
    launch_ids = {launch_id for topic, launch_id, _p in rows if topic in OWNER_TOPICS and launch_id is not None}
    emails = {str(email) for topic, _l, payload in rows if topic == Topic.HOME_REFRESH for email in payload["emails"]}
    teams: set[int] = set()
    members: set[int] = set()
    if item_ids:
        for team_id, assignee_id in session.exec(
            select(ChecklistItem.owner_team_id, ChecklistItem.assignee_id).where(col(ChecklistItem.id).in_(item_ids))
        ):
            teams.add(team_id)
            if assignee_id is not None:
                members.add(assignee_id)
    if gate_ids:
        for approvers in session.exec(select(Gate.approvers).where(col(Gate.id).in_(gate_ids))):
            emails.update(approvers)
    if launch_ids:
        emails.update(session.exec(select(Launch.owner).where(col(Launch.id).in_(launch_ids))))
    if not (teams or members or emails):
        return []
    found = session.exec(
        select(HomeView.slack_user_id)
        .join(Member, col(Member.slack_user_id) == col(HomeView.slack_user_id))
        .where(
            or_(col(Member.team_id).in_(teams), col(Member.id).in_(members), col(Member.email).in_(emails)),
        )
        .order_by(col(HomeView.slack_user_id))
    ).all()
    return list(found)
