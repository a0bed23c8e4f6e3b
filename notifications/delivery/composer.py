"""From an outbox row to the Slack messages it stands for: read what the message shows from the
database, build the snapshot, and let the pure builders lay it out.

Each `Envelope` says where a message goes and which posted message it replaces (for updates).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from notifications.messages.beta import beta_digest, guardrail_alert
from notifications.messages.digest import leadership_digest
from notifications.messages.items import gate_opened
from notifications.messages.layout import Message
from notifications.messages.region_events import region_event
from notifications.messages.reminders import overdue_reminder
from notifications.messages.snapshots import (
    DigestMessage,
    GateOpenedMessage,
    GuardrailAlert,
    ItemLine,
    OverdueReminderMessage,
    RegionEventKind,
    RegionEventMessage,
)
from orchestrator.beta.digest import BetaDigest
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import Phase
from orchestrator.core.models import ChecklistItem, Launch, Member, Outbox, PhaseDate, Region, RegionRollout, Team
from orchestrator.core.topics import Topic
from orchestrator.gates.beta_exit import beta_exit_status
from orchestrator.reporting.digest import Digest


@dataclass(frozen=True)
class Destination:
    """A channel name or id, or a Slack user to reach by direct message."""

    channel: str | None = None
    dm_user: str | None = None


@dataclass
class Envelope:
    destination: Destination
    messages: list[Message]
    kind: str
    rollout_id: int | None = None
    phase: Phase | None = None
    team_id: int | None = None
    item_ids: list[list[int]] = field(default_factory=list)  # per message part
    audience_key: str | None = None  # one intent, several recipients (a channel and a DM)

    @property
    def audience(self) -> str:
        if self.audience_key is not None:
            return self.audience_key
        return f"team:{self.team_id}" if self.team_id is not None else "main"


EVENT_KINDS: dict[str, RegionEventKind] = {
    Topic.GATE_PASSED: RegionEventKind.GATE_PASSED,
    Topic.ROLLOUT_RESUMED: RegionEventKind.RESUMED,
    Topic.ROLLOUT_LIVE: RegionEventKind.LIVE,
    Topic.ROLLOUT_HALTED: RegionEventKind.HALTED,
    Topic.ROLLOUT_ROLLED_BACK: RegionEventKind.ROLLED_BACK,
    Topic.DECISION_NO_GO: RegionEventKind.NO_GO,
    Topic.DECISION_VOIDED: RegionEventKind.VOTES_VOIDED,
    Topic.DECISION_CONFIRMATION_NEEDED: RegionEventKind.CONFIRMATION_NEEDED,
}
GATE_TOPICS = frozenset({Topic.GATE_OPENED, Topic.ROLLOUT_GATED})
REMINDER_TOPICS = frozenset({Topic.REMINDER_OVERDUE, Topic.REMINDER_ESCALATED})
UPDATE_TOPICS = frozenset(
    {Topic.ITEM_CHECKED, Topic.ITEM_REOPENED, Topic.ITEM_WAIVED, Topic.ITEM_NOT_APPLICABLE, Topic.ITEM_BLOCKED}
)
DIGEST_TOPIC = Topic.DIGEST_DAILY
BETA_DIGEST_TOPIC = Topic.DIGEST_BETA_WEEKLY
GUARDRAIL_TOPIC = Topic.BETA_GUARDRAIL_HALTED
TOPICS = frozenset(
    GATE_TOPICS
    | REMINDER_TOPICS
    | UPDATE_TOPICS
    | set(EVENT_KINDS)
    | {DIGEST_TOPIC, BETA_DIGEST_TOPIC, GUARDRAIL_TOPIC}
    # The approvers' direct messages: the request, and its tally updated after each vote.
    | {
        Topic.APPROVAL_REQUESTED,
        Topic.DECISION_GO,
        Topic.DECISION_CONDITIONAL_GO,
        Topic.DECISION_NO_GO,
        Topic.DECISION_VOIDED,
        Topic.DECISION_CONFIRMATION_NEEDED,
    }
    # The day before a phase date: reminders to approvers who have not voted, and prod ops' note.
    | {Topic.APPROVAL_REMINDER, Topic.APPROVAL_VOTES_MISSING}
)


def item_lines(session: Session, *, rollout_id: int, phase: Phase, team_id: int | None = None) -> list[ItemLine]:
    statement = (
        select(ChecklistItem, Team.key, Member.slack_user_id, Member.name)
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .join(Member, col(Member.id) == col(ChecklistItem.assignee_id), isouter=True)
        .where(ChecklistItem.rollout_id == rollout_id, ChecklistItem.phase == phase)
        .order_by(col(ChecklistItem.due_at), col(ChecklistItem.id))
    )
    if team_id is not None:
        statement = statement.where(ChecklistItem.owner_team_id == team_id)
    return [
        ItemLine(
            id=item.id,  # type: ignore[arg-type]
            key=item.key,
            title=item.title,
            team=team,
            due_at=as_utc(item.due_at) if item.due_at else None,
            blocking=item.blocking,
            status=item.status,
            evidence_required=item.evidence_required,
            checked_by=item.checked_by,
            checked_at=as_utc(item.checked_at) if item.checked_at else None,
            version=item.version,
            evidence_url=item.evidence_url,
            blocked_reason=item.blocked_reason,
            assignee=slack_user or member_name,
        )
        for item, team, slack_user, member_name in session.exec(statement).all()
    ]


def _context(session: Session, rollout_id: int) -> tuple[RegionRollout, Launch, Region]:
    rollout, launch, region = session.exec(
        select(RegionRollout, Launch, Region)
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.id == rollout_id)
    ).one()
    return rollout, launch, region


def gate_envelopes(session: Session, *, rollout_id: int, phase: Phase) -> list[Envelope]:
    """One message set per owning team, to the team's channel (or the region's when it has none)."""
    _rollout, launch, region = _context(session, rollout_id)
    gate_at = session.exec(
        select(PhaseDate.current_at).where(PhaseDate.rollout_id == rollout_id, PhaseDate.phase == phase)
    ).first()
    owners = select(ChecklistItem.owner_team_id).where(
        ChecklistItem.rollout_id == rollout_id, ChecklistItem.phase == phase
    )
    teams = session.exec(select(Team).where(col(Team.id).in_(owners)).order_by(col(Team.key))).all()
    exit_criteria = [status.label for status in beta_exit_status(session=session, rollout_id=rollout_id, phase=phase)]
    envelopes = []
    for team in teams:
        lines = item_lines(session, rollout_id=rollout_id, phase=phase, team_id=team.id)
        message = GateOpenedMessage(
            launch_slug=launch.slug,
            launch_name=launch.name,
            region_code=region.code,
            region_name=region.name,
            phase=phase,
            team_key=team.key,
            team_name=team.name,
            items=lines,
            gate_at=as_utc(gate_at) if gate_at else None,
            timezone=region.timezone,
            exit_criteria=exit_criteria,
        )
        parts = gate_opened(message)
        envelopes.append(
            Envelope(
                destination=Destination(channel=team.slack_channel or region.slack_channel),
                messages=parts,
                kind=Topic.GATE_OPENED,
                rollout_id=rollout_id,
                phase=phase,
                team_id=team.id,
                item_ids=[_ids_in(part) for part in parts],
            )
        )
    return envelopes


def _ids_in(message: Message) -> list[int]:
    """Item ids a built message shows, read from the block ids the builder gives item sections."""
    found: list[int] = []
    for block in message.blocks:
        block_id = str(block.get("block_id", ""))
        if block_id.startswith("item:"):
            item_id = int(block_id.split(":")[1])
            if item_id not in found:
                found.append(item_id)
    return found


def event_envelope(session: Session, *, row: Outbox, kind: RegionEventKind) -> Envelope:
    payload = row.payload
    rollout, launch, region = _context(session, int(payload["rollout_id"]))
    phase_value = payload.get("phase") or (rollout.phase.value if rollout.phase else None)
    message = RegionEventMessage(
        kind=kind,
        launch_slug=launch.slug,
        launch_name=launch.name,
        region_code=region.code,
        region_name=region.name,
        phase=Phase(phase_value) if phase_value else None,
        actor=str(payload.get("actor") or payload.get("voter") or "launchdeck"),
        reason=payload.get("reason"),
        percent=payload.get("percent"),
        occurred_at=as_utc(row.created_at),
        timezone=region.timezone,
        reevaluate_at=datetime.fromisoformat(payload["reevaluate_at"]) if payload.get("reevaluate_at") else None,
    )
    return Envelope(
        destination=Destination(channel=region.slack_channel), messages=[region_event(message)], kind=row.topic
    )


def reminder_envelope(session: Session, *, row: Outbox, now: datetime) -> Envelope | None:
    payload: dict[str, Any] = row.payload
    item = session.get(ChecklistItem, int(payload["item_id"]))
    if item is None:
        return None
    _rollout, launch, region = _context(session, item.rollout_id)
    (line,) = [
        found for found in item_lines(session, rollout_id=item.rollout_id, phase=item.phase) if found.id == item.id
    ]
    message = OverdueReminderMessage(
        launch_slug=launch.slug,
        launch_name=launch.name,
        region_code=region.code,
        region_name=region.name,
        phase=item.phase,
        team_key=line.team,
        item=line,
        now=now,
        escalated=row.topic == Topic.REMINDER_ESCALATED,
        timezone=region.timezone,
    )
    to = payload.get("to") or {}
    if to.get("kind") == "dm" and to.get("slack_user_id"):
        destination = Destination(dm_user=str(to["slack_user_id"]))
    else:
        team = session.get(Team, item.owner_team_id)
        destination = Destination(channel=(team.slack_channel if team else None) or region.slack_channel)
    return Envelope(destination=destination, messages=[overdue_reminder(message)], kind=row.topic)


def digest_envelope(*, digest: Digest, channel: str) -> Envelope:
    return Envelope(
        destination=Destination(channel=channel),
        messages=leadership_digest(DigestMessage(digest=digest)),
        kind=DIGEST_TOPIC,
    )


def guardrail_envelopes(session: Session, *, row: Outbox) -> list[Envelope]:
    """The guardrail's alert to the region's launch channel and, by DM, to the launch owner
    (when the owner is a member with a Slack user)."""
    payload = row.payload
    alert = GuardrailAlert(
        launch=str(payload["launch"]),
        region=str(payload["region"]),
        phase=str(payload["phase"]),
        percent=int(payload.get("percent") or 0),
        account=str(payload["account"]),
        text=str(payload.get("text") or ""),
        link=payload.get("link"),
        feedback_id=int(payload["feedback_id"]),
        owner=str(payload["owner"]),
    )
    message = guardrail_alert(alert)
    envelopes = [Envelope(destination=Destination(channel=payload.get("channel")), messages=[message], kind=row.topic)]
    owner = session.exec(select(Member.slack_user_id).where(Member.email == alert.owner)).first()
    if owner:
        envelopes.append(
            Envelope(destination=Destination(dm_user=owner), messages=[message], kind=row.topic, audience_key="owner")
        )
    return envelopes


def beta_digest_envelope(*, digest: BetaDigest, channel: str) -> Envelope:
    return Envelope(destination=Destination(channel=channel), messages=beta_digest(digest), kind=BETA_DIGEST_TOPIC)
