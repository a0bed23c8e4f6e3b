"""Overdue reminders: the scheduled nudge to whoever owes a late checklist item, and a one-time
escalation to the owning team's channel once it is late by several days.

This only writes notification intents (Outbox rows); delivering them to Slack is the
notifications package's job. The throttle is a query, not state in a flow: an item is due for a
reminder when ``last_reminded_at`` is NULL or at least ``remind_every`` old, and the run stamps it
in the same transaction as the Outbox row. So a retried, replayed or concurrent run finds nothing
left to do, and a worker that dies mid-run has queued nothing (the transaction rolls back).

Reminder bookkeeping (``last_reminded_at``, ``reminders_sent``, ``escalated_at``) deliberately
does not bump the item's ``version`` or ``updated_at``: it is not a change anyone made to the
item, and bumping it would make a Slack button rendered before the reminder fail as stale.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, insert, or_, update
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, LaunchStatus, Phase, RolloutState
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import ChecklistItem, Launch, Member, Outbox, Region, RegionRollout, Team
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction

REMINDER_TOPIC = Topic.REMINDER_OVERDUE
ESCALATION_TOPIC = Topic.REMINDER_ESCALATED
DEFAULT_REMIND_EVERY = timedelta(hours=24)
DEFAULT_ESCALATE_AFTER = timedelta(days=3)

# Regions whose rollout an operator stopped: their owners are busy with the incident, and the
# items will be looked at again when the region resumes.
_PAUSED_STATES = (RolloutState.HALTED, RolloutState.ROLLED_BACK)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ReminderRun:
    """What one run queued. ``skipped`` counts overdue items that got nothing this time because
    they were reminded less than ``remind_every`` ago (and had no escalation due)."""

    reminded: int
    escalated: int
    skipped: int

    @property
    def queued(self) -> int:
        return self.reminded + self.escalated


@dataclass(frozen=True)
class _Overdue:
    """One overdue item with everything its messages need, read in a single joined query."""

    item_id: int
    launch_id: int
    launch_slug: str
    region: str
    phase: Phase
    title: str
    due_at: datetime
    reminders_sent: int
    team_key: str
    team_channel: str | None
    assignee_id: int | None
    assignee_email: str | None
    assignee_slack_user_id: str | None
    remind_due: bool
    escalate_due: bool


def queue_overdue_reminders(
    *,
    session: Session,
    now: datetime,
    remind_every: timedelta = DEFAULT_REMIND_EVERY,
    escalate_after: timedelta = DEFAULT_ESCALATE_AFTER,
    actor: Actor,
) -> ReminderRun:
    """Queue a reminder for every overdue item not reminded within ``remind_every``, and a
    one-time escalation for items late by more than ``escalate_after``; all in one transaction.

    An item is overdue when it is past ``due_at``, not done/waived/n/a, its launch is active and
    its region is neither halted nor rolled back. Escalation is checked on every run, not only
    when a reminder is due, so it goes out within one run interval of the threshold; it happens
    at most once per item (``escalated_at`` is never reset, and its Outbox key is per item).
    """
    now = _aware(now)
    if remind_every <= timedelta(0):
        raise InvalidInput("remind_every", "must be a positive interval (e.g. 24 hours)")
    if escalate_after < timedelta(0):
        raise InvalidInput("escalate_after", "cannot be negative")
    with transaction(session):
        due = [
            _Overdue(*row)
            for row in session.execute(
                _due_statement(now=now, remind_cutoff=now - remind_every, escalate_cutoff=now - escalate_after)
            )
        ]
        overdue_total = _overdue_count(session, now=now)
        queued = _enqueue_all(
            session, _messages(due, now=now, remind_every=remind_every, escalate_after=escalate_after)
        )
        # Stamp only what was actually queued, so the counters never claim a message that a
        # colliding key (an earlier run in this interval) kept out of the Outbox.
        reminded = [int(row.payload["item_id"]) for row in queued if row.topic == REMINDER_TOPIC]
        escalated = [int(row.payload["item_id"]) for row in queued if row.topic == ESCALATION_TOPIC]
        _stamp(session, reminded=reminded, escalated=escalated, now=now)
        run = ReminderRun(
            reminded=len(reminded),
            escalated=len(escalated),
            skipped=overdue_total - len(set(reminded) | set(escalated)),
        )
        if run.queued:
            record(
                session,
                actor=actor,
                entity="reminders",
                entity_id=None,
                action="reminders.queued",
                launch_id=None,
                after={"reminded": run.reminded, "escalated": run.escalated, "skipped": run.skipped},
            )
    return run


def _overdue_count(session: Session, *, now: datetime) -> int:
    """Every overdue item, reminded this run or not (what is left out is counted as skipped)."""
    total = session.exec(
        select(func.count())
        .select_from(ChecklistItem)
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .where(*_overdue_scope(now))
    ).one()
    return int(total)


def _stamp(session: Session, *, reminded: list[int], escalated: list[int], now: datetime) -> None:
    """Reminder bookkeeping on the items queued for: no version bump (see the module docstring)."""
    if reminded:
        session.execute(
            update(ChecklistItem)
            .where(col(ChecklistItem.id).in_(reminded))
            .values(last_reminded_at=now, reminders_sent=ChecklistItem.reminders_sent + 1)
        )
    if escalated:
        session.execute(update(ChecklistItem).where(col(ChecklistItem.id).in_(escalated)).values(escalated_at=now))


def _due_statement(*, now: datetime, remind_cutoff: datetime, escalate_cutoff: datetime) -> Select[*tuple[Any, ...]]:
    """Overdue items owed a reminder (throttle: never reminded, or not since ``remind_cutoff``)
    or an escalation (never escalated, due before ``escalate_cutoff``), with their launch,
    region, team and assignee joined in, so the run needs no per-item lookups."""
    remind_due = or_(
        col(ChecklistItem.last_reminded_at).is_(None), col(ChecklistItem.last_reminded_at) <= remind_cutoff
    )
    escalate_due = and_(col(ChecklistItem.escalated_at).is_(None), col(ChecklistItem.due_at) < escalate_cutoff)
    return (
        select_columns(  # wider than sqlmodel's typed select allows
            col(ChecklistItem.id),
            col(ChecklistItem.launch_id),
            col(Launch.slug),
            col(Region.code),
            col(ChecklistItem.phase),
            col(ChecklistItem.title),
            col(ChecklistItem.due_at),
            col(ChecklistItem.reminders_sent),
            col(Team.key),
            col(Team.slack_channel),
            col(ChecklistItem.assignee_id),
            col(Member.email),
            col(Member.slack_user_id),
            remind_due.label("remind_due"),
            escalate_due.label("escalate_due"),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .outerjoin(Member, col(Member.id) == col(ChecklistItem.assignee_id))
        .where(*_overdue_scope(now), or_(remind_due, escalate_due))
        .order_by(col(ChecklistItem.id))
        # PostgreSQL: a concurrent run (or a check-off) waits here, then sees the stamped or
        # closed row and leaves it out. SQLite already serialises writers with BEGIN IMMEDIATE.
        .with_for_update(of=ChecklistItem)
    )


def _messages(
    due: list[_Overdue], *, now: datetime, remind_every: timedelta, escalate_after: timedelta
) -> list[Outbox]:
    """The run's Outbox rows. A reminder's key names its interval bucket, so a repeat in the same
    interval collides; an escalation's key names only the item, so it can never go out twice."""
    bucket = _bucket_start(now, remind_every)
    reminders = [
        Outbox(
            key=f"reminder:{row.item_id}:{bucket:%Y%m%dT%H%M%SZ}",
            topic=REMINDER_TOPIC,
            launch_id=row.launch_id,
            payload=_reminder_payload(row, now=now),
        )
        for row in due
        if row.remind_due
    ]
    escalations = [
        Outbox(
            key=f"reminder:{row.item_id}:escalated",
            topic=ESCALATION_TOPIC,
            launch_id=row.launch_id,
            payload=_escalation_payload(row, now=now, escalate_after=escalate_after),
        )
        for row in due
        if row.escalate_due
    ]
    return reminders + escalations


def _overdue_scope(now: datetime) -> list[Any]:
    """The WHERE clauses that make an item overdue and worth chasing (needs the rollout and
    launch joined)."""
    return [
        col(ChecklistItem.due_at) < now,
        col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
        col(Launch.status) == LaunchStatus.ACTIVE,
        col(RegionRollout.state).not_in(_PAUSED_STATES),
    ]


def _enqueue_all(session: Session, rows: Iterable[Outbox]) -> list[Outbox]:
    """Queue many Outbox rows with one key lookup and one multi-row INSERT, instead of a lookup
    and an INSERT per row; rows whose key is already queued are dropped (the same skip-if-present
    rule as ``ledger.enqueue``). The returned rows are not attached to the session (no ids)."""
    wanted = {row.key: row for row in rows}
    if not wanted:
        return []
    session.flush()
    present = set(session.exec(select(Outbox.key).where(col(Outbox.key).in_(list(wanted)))))
    fresh = [row for key, row in wanted.items() if key not in present]
    if fresh:
        session.execute(insert(Outbox), [row.model_dump(exclude={"id"}) for row in fresh])
    return fresh


def _bucket_start(now: datetime, every: timedelta) -> datetime:
    """Start of the ``every``-long interval holding ``now``, counted from the epoch: a run that
    the throttle lets through always lands in a later bucket than the previous reminder, and a
    repeat inside the same interval lands in the same one (so its Outbox key collides)."""
    buckets = (now - _EPOCH) // every
    return _EPOCH + buckets * every


def _addressee(row: _Overdue) -> dict[str, Any]:
    """The assignee by direct message, or the owning team's channel when nobody is assigned."""
    if row.assignee_id is not None:
        return {
            "kind": "dm",
            "member_id": row.assignee_id,
            "email": row.assignee_email,
            "slack_user_id": row.assignee_slack_user_id,
        }
    return _team(row)


def _team(row: _Overdue) -> dict[str, Any]:
    return {"kind": "team", "team": row.team_key, "slack_channel": row.team_channel}


def _facts(row: _Overdue, *, now: datetime) -> dict[str, Any]:
    due = as_utc(row.due_at)
    return {
        "item_id": row.item_id,
        "launch_id": row.launch_id,
        "launch_slug": row.launch_slug,
        "region": row.region,
        "phase": row.phase.value,
        "title": row.title,
        "team": row.team_key,
        "assignee_id": row.assignee_id,
        "assignee_slack_user_id": row.assignee_slack_user_id,
        "days_late": (now - due).days,
        "due_at": due.isoformat(),
    }


def _reminder_payload(row: _Overdue, *, now: datetime) -> dict[str, Any]:
    return {**_facts(row, now=now), "reminder_number": row.reminders_sent + 1, "to": _addressee(row)}


def _escalation_payload(row: _Overdue, *, now: datetime, escalate_after: timedelta) -> dict[str, Any]:
    return {
        **_facts(row, now=now),
        "reminders_sent": row.reminders_sent + (1 if row.remind_due else 0),
        "escalate_after_days": escalate_after / timedelta(days=1),
        "to": _team(row),
    }


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise InvalidInput("now", "needs a timezone (launchdeck works in aware UTC)")
    return as_utc(now)
