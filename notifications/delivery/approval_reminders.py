"""From the approval reminders' outbox rows to Slack: the reminder DM to one approver (the
approval request read fresh, so its tally and buttons are current), and prod ops' note naming who
is missing, to the launch owner by DM or else the region's channel.

A reminder whose approver voted, or whose gate passed, between queueing and delivery has nothing
left to say and is dropped."""

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from notifications.delivery.approval_envelopes import approval_snapshot
from notifications.delivery.composer import Destination, Envelope
from notifications.messages.approval_reminders import approval_reminder, votes_missing
from notifications.messages.snapshots import VotesMissingMessage
from orchestrator.core.enums import Phase
from orchestrator.core.models import Gate, Launch, Member, Outbox, Region, RegionRollout
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
    slack_user = session.exec(select(Member.slack_user_id).where(Member.email == approver)).first()
    if snapshot.passed or approver not in snapshot.missing or not slack_user:
        return []
    return [
        Envelope(
            destination=Destination(dm_user=slack_user),
            messages=[approval_reminder(snapshot, now=now)],
            kind=Topic.APPROVAL_REMINDER,
            rollout_id=gate.rollout_id,
            phase=gate.phase,
            audience_key=f"reminder:{gate.id}:{approver}",
        )
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
