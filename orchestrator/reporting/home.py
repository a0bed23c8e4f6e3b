"""What a person's Slack App Home shows, read in a fixed few queries: the votes waiting for them,
their team's open items (and the ones assigned to them), and for product ops the launches they own
with each region's state and next gate. Each list is cut at ``limit`` rows with its full count, so
the Home can say "and N more". For a Slack user launchdeck does not know: whom to ask.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import (
    GateKind,
    GateStatus,
    ItemStatus,
    LaunchStatus,
    Phase,
    Role,
    RolloutState,
    Vote,
)
from orchestrator.core.models import Decision, Gate, Launch, Member, PhaseDate, Region, RegionRollout, Team
from orchestrator.core.policy import LAUNCH_OPERATORS
from orchestrator.gates.quorum import go_max_age
from orchestrator.items.queries import count_open_items_of, open_items_of

SECTION_LIMIT = 10
GOING = (LaunchStatus.DRAFT, LaunchStatus.ACTIVE)


@dataclass(frozen=True)
class PendingVote:
    gate_id: int
    launch_slug: str
    launch_name: str
    region_code: str
    phase: Phase
    phase_at: datetime | None
    timezone: str = "UTC"  # the region's: the phase date reads as its local day


@dataclass(frozen=True)
class HomeItem:
    id: int
    version: int
    title: str
    launch_slug: str
    region_code: str
    phase: Phase
    status: ItemStatus
    due_at: datetime | None
    blocking: bool
    assigned_to_me: bool


@dataclass(frozen=True)
class RegionLine:
    code: str
    state: RolloutState
    phase: Phase | None
    percent: int
    next_gate: tuple[Phase, GateKind, GateStatus] | None


@dataclass(frozen=True)
class OwnedLaunch:
    slug: str
    name: str
    status: LaunchStatus
    regions: list[RegionLine]


@dataclass(frozen=True)
class HomeSnapshot:
    """One person's Home; ``member_name`` None means launchdeck does not know the Slack user."""

    slack_user_id: str
    member_name: str | None = None
    team_name: str | None = None
    pending: list[PendingVote] = field(default_factory=list)
    pending_total: int = 0
    items: list[HomeItem] = field(default_factory=list)
    items_total: int = 0
    launches: list[OwnedLaunch] | None = None  # None: not product ops, so no such section
    launches_total: int = 0
    contacts: list[tuple[str, str | None]] = field(default_factory=list)  # (name, Slack user id)


def home_snapshot(*, session: Session, slack_user_id: str, now: datetime, limit: int = SECTION_LIMIT) -> HomeSnapshot:
    member = session.exec(select(Member).where(Member.slack_user_id == slack_user_id)).first()
    if member is None:
        return HomeSnapshot(slack_user_id=slack_user_id, contacts=_contacts(session))
    team = session.get(Team, member.team_id) if member.team_id is not None else None
    pending = pending_votes(session, email=member.email, now=now)
    items = [
        HomeItem(
            id=item.id,  # type: ignore[arg-type]
            version=item.version,
            title=item.title,
            launch_slug=slug,
            region_code=region,
            phase=item.phase,
            status=item.status,
            due_at=as_utc(item.due_at) if item.due_at else None,
            blocking=item.blocking,
            assigned_to_me=item.assignee_id == member.id,
        )
        for item, slug, region in open_items_of(session=session, member=member, limit=limit)
    ]
    launches, launches_total = None, 0
    if member.role in LAUNCH_OPERATORS:
        launches, launches_total = _owned_launches(session, email=member.email, limit=limit)
    return HomeSnapshot(
        slack_user_id=slack_user_id,
        member_name=member.name,
        team_name=team.name if team is not None else None,
        pending=pending[:limit],
        pending_total=len(pending),
        items=items,
        items_total=count_open_items_of(session=session, member=member) if len(items) >= limit else len(items),
        launches=launches,
        launches_total=launches_total,
    )


def pending_votes(session: Session, *, email: str, now: datetime) -> list[PendingVote]:
    """Open approval gates of going launches naming ``email`` as an approver, without a vote of
    theirs that counts (none, a voided one, or a Go too old to count until confirmed)."""
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most four columns
            Gate, Launch.slug, Launch.name, Region.code, Region.timezone, PhaseDate.current_at
        )
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(
            PhaseDate,
            and_(col(PhaseDate.rollout_id) == col(Gate.rollout_id), col(PhaseDate.phase) == col(Gate.phase)),
            isouter=True,
        )
        .where(Gate.kind == GateKind.APPROVAL, Gate.status == GateStatus.OPEN, col(Launch.status).in_(GOING))
    ).all()
    mine = [row for row in rows if email in row[0].approvers]
    if not mine:
        return []
    voted = _counting_votes(session, email=email, gate_ids=[gate.id for gate, *_rest in mine], now=now)
    pending = [
        PendingVote(gate.id, slug, name, code, gate.phase, as_utc(at) if at else None, timezone)
        for gate, slug, name, code, timezone, at in mine
        if gate.id not in voted
    ]
    undated = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(pending, key=lambda vote: (vote.phase_at or undated, vote.launch_slug, vote.region_code))


def _counting_votes(session: Session, *, email: str, gate_ids: list[int | None], now: datetime) -> set[int]:
    max_age = go_max_age()
    counting = set()
    for gate_id, vote, cast_at in session.exec(
        select(Decision.gate_id, Decision.vote, Decision.cast_at).where(
            col(Decision.gate_id).in_(gate_ids), Decision.voter == email, col(Decision.voided_at).is_(None)
        )
    ):
        if vote == Vote.NO_GO or max_age is None or as_utc(cast_at) >= now - max_age:
            counting.add(gate_id)
    return counting


def _owned_launches(session: Session, *, email: str, limit: int) -> tuple[list[OwnedLaunch], int]:
    owned = select(Launch).where(Launch.owner == email, col(Launch.status).in_(GOING))
    total = session.exec(select(func.count()).select_from(owned.subquery())).one()
    launches = session.exec(owned.order_by(col(Launch.name), col(Launch.id)).limit(limit)).all()
    if not launches:
        return [], total
    rollouts = session.exec(
        select(RegionRollout, Region.code)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(RegionRollout.launch_id).in_([launch.id for launch in launches]))
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    next_gates: dict[int, tuple[Phase, GateKind, GateStatus]] = {}
    gates = session.exec(
        select(Gate).where(
            col(Gate.rollout_id).in_([rollout.id for rollout, _code in rollouts]), Gate.status != GateStatus.PASSED
        )
    ).all()
    for gate in sorted(gates, key=lambda gate: (order[gate.phase], gate.kind.value)):
        next_gates.setdefault(gate.rollout_id, (gate.phase, gate.kind, gate.status))
    regions: dict[int, list[RegionLine]] = defaultdict(list)
    for rollout, code in rollouts:
        line = RegionLine(code, rollout.state, rollout.phase, rollout.percent, next_gates.get(rollout.id or 0))
        regions[rollout.launch_id].append(line)
    found = [
        OwnedLaunch(launch.slug, launch.name, launch.status, regions.get(launch.id or 0, [])) for launch in launches
    ]
    return found, total


def _contacts(session: Session) -> list[tuple[str, str | None]]:
    """Product ops people to ask for a link to the directory (admins after them)."""
    rows = session.exec(
        select(Member.name, Member.slack_user_id, Member.role)
        .where(col(Member.role).in_([Role.PRODOPS, Role.ADMIN]))
        .order_by(col(Member.role) != Role.PRODOPS, col(Member.name))
        .limit(3)
    ).all()
    return [(name, slack_id) for name, slack_id, _role in rows]
