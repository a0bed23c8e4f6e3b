"""Approval reminders: the day before a phase date, the approvers who have not voted on its open
approval gate are reminded (one DM each), and prod ops (the launch's owner) are told who is
missing and how many Gos the quorum still needs.

Like the overdue reminders, this only writes notification intents (Outbox rows). The throttle is
the Outbox key, which names the gate, the approver and the phase date: the hourly run queues each
reminder once per phase date, and a phase moved to another day is reminded again. "Not voted"
is the quorum's own notion (``quorum.tally``): a voided vote, or a Go too old to count, is no vote.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, LaunchStatus, Phase, RolloutState
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import Gate, Launch, Member, PhaseDate, Region, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction
from orchestrator.gates.quorum import Tally, tally

REMINDER_TOPIC = Topic.APPROVAL_REMINDER
MISSING_TOPIC = Topic.APPROVAL_VOTES_MISSING
# "The day before the phase date": from a day before it until it.
DEFAULT_REMIND_BEFORE = timedelta(days=1)
# A stopped region's phase date is not coming; its approvers are asked again when it resumes.
_PAUSED_STATES = (RolloutState.HALTED, RolloutState.ROLLED_BACK)


@dataclass(frozen=True)
class ApprovalReminderRun:
    """What one run queued: ``reminded`` approver DMs, and ``told`` prod ops messages (one per
    gate still waiting for votes, the first time it is found in the window)."""

    reminded: int
    told: int


@dataclass(frozen=True)
class _Waiting:
    """One open approval gate whose phase date is near, with what its messages name."""

    gate: Gate
    launch_id: int
    launch_slug: str
    launch_owner: str
    region: str
    region_channel: str | None
    phase_at: datetime


def queue_approval_reminders(
    *, session: Session, now: datetime, actor: Actor, remind_before: timedelta = DEFAULT_REMIND_BEFORE
) -> ApprovalReminderRun:
    """Queue, in one transaction, a reminder to every named approver without a counting vote on
    an open approval gate whose phase date is within ``remind_before`` from ``now``, and one
    message per such gate to prod ops naming them. Gates whose quorum already holds are left
    alone (the missing votes are not needed), as are launches not active and stopped regions."""
    if now.tzinfo is None:
        raise InvalidInput("now", "needs a timezone (launchdeck works in aware UTC)")
    if remind_before <= timedelta(0):
        raise InvalidInput("remind_before", "must be a positive interval (e.g. 24 hours)")
    now = as_utc(now)
    reminded = told = 0
    with transaction(session):
        for waiting in _waiting_gates(session, now=now, until=now + remind_before):
            count = tally(session, waiting.gate, now=now)
            if not count.missing or count.holds:
                continue
            for approver in count.missing:
                reminded += _remind(session, waiting, approver=approver)
            told += _tell_prod_ops(session, waiting, count=count)
        if reminded or told:
            record(
                session,
                actor=actor,
                entity="reminders",
                entity_id=None,
                action="approval_reminders.queued",
                launch_id=None,
                after={"reminded": reminded, "told": told},
            )
    return ApprovalReminderRun(reminded=reminded, told=told)


def gos_short(count: Tally) -> int:
    """How many more Gos the quorum needs (from distinct teams, when the gate asks for that)."""
    return max(count.needed - len(count.gos), count.needed - count.teams_of_gos, 0)


def _waiting_gates(session: Session, *, now: datetime, until: datetime) -> list[_Waiting]:
    """Open approval gates of active launches in regions not stopped, whose phase date is still
    ahead but no later than ``until``. Locked (PostgreSQL), so a concurrent run waits, then
    finds its keys queued; a vote (which locks the gate) waits for the run, or the run for it."""
    statement = (
        select_columns(  # wider than sqlmodel's typed select allows
            Gate,
            col(Launch.id),
            col(Launch.slug),
            col(Launch.owner),
            col(Region.code),
            col(Region.slack_channel),
            col(PhaseDate.current_at),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(
            PhaseDate, and_(col(PhaseDate.rollout_id) == col(Gate.rollout_id), col(PhaseDate.phase) == col(Gate.phase))
        )
        .where(
            col(Gate.kind) == GateKind.APPROVAL,
            col(Gate.status) == GateStatus.OPEN,
            col(Launch.status) == LaunchStatus.ACTIVE,
            col(RegionRollout.state).not_in(_PAUSED_STATES),
            col(PhaseDate.current_at) > now,
            col(PhaseDate.current_at) <= until,
        )
        .order_by(col(Gate.id))
        .with_for_update(of=Gate)
    )
    return [
        _Waiting(gate, launch_id, slug, owner, region, channel, as_utc(phase_at))
        for gate, launch_id, slug, owner, region, channel, phase_at in session.execute(statement)
    ]


def _facts(waiting: _Waiting) -> dict[str, Any]:
    gate = waiting.gate
    phase: Phase = gate.phase
    return {
        "gate_id": gate.id,
        "rollout_id": gate.rollout_id,
        "launch_id": waiting.launch_id,
        "launch_slug": waiting.launch_slug,
        "region": waiting.region,
        "phase": phase.value,
        "phase_at": waiting.phase_at.isoformat(),
    }


def _remind(session: Session, waiting: _Waiting, *, approver: str) -> int:
    queued = enqueue(
        session,
        key=f"gate:{waiting.gate.id}:remind:{approver}:{waiting.phase_at:%Y-%m-%d}",
        topic=REMINDER_TOPIC,
        launch_id=waiting.launch_id,
        payload={**_facts(waiting), "approver": approver},
    )
    return int(queued is not None)


def _tell_prod_ops(session: Session, waiting: _Waiting, *, count: Tally) -> int:
    """The launch's owner by DM when the directory knows their Slack user, else the region's
    channel (the same fallback the guardrail alert and the region events use)."""
    owner_slack = session.exec(select(Member.slack_user_id).where(Member.email == waiting.launch_owner)).first()
    to: dict[str, Any] = (
        {"kind": "dm", "email": waiting.launch_owner, "slack_user_id": owner_slack}
        if owner_slack
        else {"kind": "channel", "slack_channel": waiting.region_channel}
    )
    queued = enqueue(
        session,
        key=f"gate:{waiting.gate.id}:votes_missing:{waiting.phase_at:%Y-%m-%d}",
        topic=MISSING_TOPIC,
        launch_id=waiting.launch_id,
        payload={
            **_facts(waiting),
            "missing": count.missing,
            "gos_needed": gos_short(count),
            "no_gos": count.no_gos,
            "to": to,
        },
    )
    return int(queued is not None)
