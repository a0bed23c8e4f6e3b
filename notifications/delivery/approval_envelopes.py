"""From an approval gate to its approvers' direct messages (one per approver with a Slack user
id), read fresh from the database each time: the request when it goes out, and the same messages
again after every vote, void or pass, so the tally is updated in place for everyone."""

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from notifications.delivery.composer import Destination, Envelope
from notifications.messages.approvals import approval_request
from notifications.messages.snapshots import ApprovalRequestMessage
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, GateStatus
from orchestrator.core.models import ChecklistItem, Gate, Launch, Member, PhaseDate, Region, RegionRollout, Waiver
from orchestrator.core.settings import get_settings
from orchestrator.core.topics import Topic
from orchestrator.gates.beta_exit import beta_exit_status
from orchestrator.gates.quorum import tally

APPROVAL_KIND = Topic.APPROVAL_REQUESTED
# What changes the tally an approver's message shows (the message is edited in place).
APPROVAL_UPDATE_TOPICS = frozenset(
    {
        Topic.DECISION_GO,
        Topic.DECISION_CONDITIONAL_GO,
        Topic.DECISION_NO_GO,
        Topic.DECISION_VOIDED,
        Topic.DECISION_CONFIRMATION_NEEDED,
    }
)


def audience(gate_id: int, approver: str) -> str:
    """Which approver's copy a posted message is (found again to update it in place)."""
    return f"approval:{gate_id}:{approver}"


def approval_envelopes(session: Session, *, gate_id: int) -> list[Envelope]:
    gate = session.get(Gate, gate_id, populate_existing=True)
    if gate is None or not gate.approvers:
        return []
    message = approval_request(approval_snapshot(session, gate))
    people = dict(
        session.exec(select(Member.email, Member.slack_user_id).where(col(Member.email).in_(gate.approvers))).all()
    )
    return [
        Envelope(
            destination=Destination(dm_user=people[approver]),
            messages=[message],
            kind=APPROVAL_KIND,
            rollout_id=gate.rollout_id,
            phase=gate.phase,
            audience_key=audience(gate_id, approver),
        )
        for approver in gate.approvers
        if people.get(approver)
    ]


def approval_snapshot(session: Session, gate: Gate) -> ApprovalRequestMessage:
    """What the approvers' messages show about ``gate``, read now (the reminder shows it too)."""
    assert gate.id is not None
    launch, region = session.exec(
        select(Launch, Region)
        .join(RegionRollout, col(RegionRollout.launch_id) == col(Launch.id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.id == gate.rollout_id)
    ).one()
    phase_at = session.exec(
        select(PhaseDate.current_at).where(PhaseDate.rollout_id == gate.rollout_id, PhaseDate.phase == gate.phase)
    ).first()
    count = tally(session, gate, now=datetime.now(UTC))
    public_url = get_settings().public_url
    return ApprovalRequestMessage(
        gate_id=gate.id,
        launch_slug=launch.slug,
        launch_name=launch.name,
        region_code=region.code,
        phase=gate.phase,
        phase_at=as_utc(phase_at) if phase_at else None,
        timezone=region.timezone,
        blocking_left=_blocking_left(session, gate),
        waivers=_waivers(session, gate),
        exit_criteria=[
            status.label for status in beta_exit_status(session=session, rollout_id=gate.rollout_id, phase=gate.phase)
        ],
        needed=count.needed,
        distinct_teams=gate.distinct_teams,
        gos=count.gos,
        no_gos=count.no_gos,
        missing=count.missing,
        passed=gate.status == GateStatus.PASSED,
        link=f"{public_url.rstrip('/')}/dashboard/launches/{launch.slug}" if public_url else None,
    )


def _blocking_left(session: Session, gate: Gate) -> list[str]:
    return list(
        session.exec(
            select(ChecklistItem.title)
            .where(
                ChecklistItem.rollout_id == gate.rollout_id,
                ChecklistItem.phase == gate.phase,
                col(ChecklistItem.blocking).is_(True),
                col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
            )
            .order_by(col(ChecklistItem.due_at), col(ChecklistItem.id))
        ).all()
    )


def _waivers(session: Session, gate: Gate) -> list[str]:
    rows = session.exec(
        select(ChecklistItem.title, Waiver.reason, Waiver.approver)
        .join(Waiver, col(Waiver.item_id) == col(ChecklistItem.id))
        .where(
            ChecklistItem.rollout_id == gate.rollout_id,
            ChecklistItem.phase == gate.phase,
            col(Waiver.revoked_at).is_(None),
        )
        .order_by(col(Waiver.created_at))
    ).all()
    return [f"{title}: {reason} (by {approver})" for title, reason, approver in rows]
