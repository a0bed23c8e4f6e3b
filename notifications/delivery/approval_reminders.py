"""From the approval reminders' outbox rows to Slack: the reminder DM to one approver (the
approval request read fresh, so its tally and buttons are current), and prod ops' note naming who
is missing, to the launch owner by DM or else the region's channel.

A reminder whose approver voted, or whose gate passed, between queueing and delivery has nothing
left to say and is dropped; one already posted is updated in place after each vote, like the
request."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from notifications.delivery.approval_envelopes import approval_snapshot
from notifications.delivery.composer import Destination, Envelope
from notifications.messages.approval_reminders import approval_reminder, votes_missing
from notifications.messages.snapshots import ApprovalRequestMessage, VotesMissingMessage
from orchestrator.core.enums import Phase
from orchestrator.core.models import Gate, Launch, Member, Outbox, Region, RegionRollout, SlackMessage
from orchestrator.core.settings import get_settings
from orchestrator.core.topics import Topic

TOPICS = frozenset({Topic.APPROVAL_REMINDER, Topic.APPROVAL_VOTES_MISSING})


def reminder_envelopes(session: Session, *, row: Outbox, now: datetime) -> list[Envelope]:
    if row.topic == Topic.APPROVAL_REMINDER:
        return _approver_reminder(session, payload=row.payload, now=now)
    return [_votes_missing(session, payload=row.payload)]


def _approver_reminder(session: Session, *, payload: dict[str, Any], now: datetime) -> list[Envelope]:
    gate = session.get(Gate, int(payload["gate_id"]), populate_existing=True)
    approver = str(payload["approver"])
    if gate is None:
        return []
    snapshot = approval_snapshot(session, gate)
    if snapshot.passed or approver not in snapshot.missing:
        return []
    return _reminders(session, gate=gate, snapshot=snapshot, approvers=[approver], now=now)


def reminder_updates(session: Session, *, gate_id: int, now: datetime) -> list[Envelope]:
    """After a vote, a void or the gate passing: the reminders already posted for the gate,
    re-rendered in place like the requests, so no reminder shows an old tally or live buttons on
    a passed gate (and one whose approver has voted stops saying it needs their vote)."""
    gate = session.get(Gate, gate_id, populate_existing=True)
    if gate is None:
        return []
    posted = session.exec(
        select(SlackMessage.audience).where(
            SlackMessage.kind == Topic.APPROVAL_REMINDER, col(SlackMessage.audience).startswith(audience(gate_id, ""))
        )
    ).all()
    approvers = sorted({key.removeprefix(audience(gate_id, "")) for key in posted})
    if not approvers:
        return []
    snapshot = approval_snapshot(session, gate)
    return _reminders(session, gate=gate, snapshot=snapshot, approvers=approvers, now=now)


def audience(gate_id: int, approver: str) -> str:
    """Which approver's reminder a posted message is (found again to update it in place)."""
    return f"reminder:{gate_id}:{approver}"


def _reminders(
    session: Session, *, gate: Gate, snapshot: ApprovalRequestMessage, approvers: list[str], now: datetime
) -> list[Envelope]:
    people = dict(
        session.exec(select(Member.email, Member.slack_user_id).where(col(Member.email).in_(approvers))).all()
    )
    return [
        Envelope(
            destination=Destination(dm_user=people[approver]),
            messages=[approval_reminder(snapshot, now=now, approver=approver)],
            kind=Topic.APPROVAL_REMINDER,
            rollout_id=gate.rollout_id,
            phase=gate.phase,
            audience_key=audience(gate.id or 0, approver),
        )
        for approver in approvers
        if people.get(approver)
    ]


def _votes_missing(session: Session, *, payload: dict[str, Any]) -> Envelope:
    launch, region = session.exec(
        select(Launch, Region)
        .join(RegionRollout, col(RegionRollout.launch_id) == col(Launch.id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.id == int(payload["rollout_id"]))
    ).one()
    public_url = get_settings().public_url
    message = votes_missing(
        VotesMissingMessage(
            launch_slug=launch.slug,
            launch_name=launch.name,
            region_code=region.code,
            phase=Phase(payload["phase"]),
            phase_at=datetime.fromisoformat(payload["phase_at"]),
            missing=list(payload["missing"]),
            gos_needed=int(payload["gos_needed"]),
            no_gos=list(payload.get("no_gos") or []),
            link=f"{public_url.rstrip('/')}/dashboard/launches/{launch.slug}" if public_url else None,
        )
    )
    to = payload.get("to") or {}
    if to.get("kind") == "dm" and to.get("slack_user_id"):
        destination = Destination(dm_user=str(to["slack_user_id"]))
    else:
        destination = Destination(channel=region.slack_channel)
    return Envelope(destination=destination, messages=[message], kind=Topic.APPROVAL_VOTES_MISSING)
