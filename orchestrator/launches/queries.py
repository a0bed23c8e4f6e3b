"""Read models of launches for the CLI, API and pages: the list, one launch's detail, and
slug/region lookups, each in a fixed number of queries however many launches there are."""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import (
    SATISFYING_STATUSES,
    GateKind,
    GateStatus,
    LaunchStatus,
    OutboxStatus,
    Phase,
    RolloutState,
)
from orchestrator.core.errors import NotFound
from orchestrator.core.models import (
    AuditEvent,
    ChecklistItem,
    Gate,
    Launch,
    Outbox,
    PhaseDate,
    Region,
    RegionRollout,
)
from orchestrator.core.settings import get_settings
from orchestrator.gates.beta_exit import CriterionStatus, beta_exit_status
from orchestrator.launches.spec import SLUG_PATTERN
from orchestrator.rollouts.target import effective


@dataclass(frozen=True)
class LaunchSummary:
    id: int
    slug: str
    name: str
    tier: int
    status: LaunchStatus
    owner: str
    regions: list[str]
    items_total: int
    items_open_blocking: int


@dataclass(frozen=True)
class PhaseView:
    phase: Phase
    baseline_at: datetime
    current_at: datetime

    @property
    def slip_days(self) -> float:
        return (self.current_at - self.baseline_at).total_seconds() / 86400


@dataclass(frozen=True)
class GateView:
    id: int
    phase: Phase
    kind: GateKind
    status: GateStatus
    # Beta-exit gates: each criterion with its current value and threshold.
    criteria: tuple[CriterionStatus, ...] = ()
    # Approval gates: who approves, and how many Gos (None: all) from distinct teams or not.
    approvers: tuple[str, ...] = ()
    quorum: int | None = None
    distinct_teams: bool = False


@dataclass
class RolloutView:
    id: int
    region: str
    region_name: str
    timezone: str
    state: RolloutState
    phase: Phase | None
    percent: int
    version: int
    halt_reason: str | None
    # Where this region's exposure changes go and the flag they move: its own choice, else the
    # launch's, else the configured target and the launch slug.
    target: str
    flag_key: str
    phases: list[PhaseView] = field(default_factory=list)
    # Phases the region skips on purpose (in order); they have no date and no gates.
    skipped_phases: list[Phase] = field(default_factory=list)
    gates: list[GateView] = field(default_factory=list)
    items_total: int = 0
    items_open_blocking: int = 0
    items_overdue: int = 0
    phase_open_blocking: int = 0  # open blocking items of the phase the region is in now


@dataclass(frozen=True)
class LaunchDetail:
    launch: Launch
    rollouts: list[RolloutView]


def list_launches(*, session: Session, status: LaunchStatus | None = None) -> list[LaunchSummary]:
    statement = select(Launch).order_by(col(Launch.created_at).desc(), col(Launch.id).desc())
    if status is not None:
        statement = statement.where(Launch.status == status)
    launches = session.exec(statement).all()
    ids = [launch.id for launch in launches]
    regions: dict[int, list[str]] = defaultdict(list)
    for launch_id, code in session.exec(
        select(RegionRollout.launch_id, Region.code)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(RegionRollout.launch_id).in_(ids))
        .order_by(col(Region.rollout_order))
    ):
        regions[launch_id].append(code)
    totals: dict[int, int] = {}
    open_blocking: dict[int, int] = {}
    # Grouped by the status itself: PostgreSQL will not group by an IN (...) expression whose
    # parameters are bound twice, and there are only six statuses to fold in Python.
    for launch_id, blocking, item_status, count in session.exec(
        select(ChecklistItem.launch_id, ChecklistItem.blocking, ChecklistItem.status, func.count())
        .where(col(ChecklistItem.launch_id).in_(ids))
        .group_by(col(ChecklistItem.launch_id), col(ChecklistItem.blocking), col(ChecklistItem.status))
    ):
        totals[launch_id] = totals.get(launch_id, 0) + count
        if blocking and item_status not in SATISFYING_STATUSES:
            open_blocking[launch_id] = open_blocking.get(launch_id, 0) + count
    return [
        LaunchSummary(
            id=launch.id,  # type: ignore[arg-type]
            slug=launch.slug,
            name=launch.name,
            tier=launch.tier,
            status=launch.status,
            owner=launch.owner,
            regions=regions[launch.id],  # type: ignore[index]
            items_total=totals.get(launch.id, 0),  # type: ignore[arg-type]
            items_open_blocking=open_blocking.get(launch.id, 0),  # type: ignore[arg-type]
        )
        for launch in launches
    ]


def launch_detail(*, session: Session, slug: str, now: datetime | None = None) -> LaunchDetail:
    now = now or utcnow()
    launch = session.exec(select(Launch).where(Launch.slug == slug)).one_or_none()
    if launch is None:
        raise NotFound("launch", slug)
    views: dict[int, RolloutView] = {}
    default_target = get_settings().rollout_target
    for rollout, region in session.exec(
        select(RegionRollout, Region)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == launch.id)
        .order_by(col(Region.rollout_order), Region.code)
    ):
        views[rollout.id] = RolloutView(  # type: ignore[index]
            id=rollout.id,  # type: ignore[arg-type]
            region=region.code,
            region_name=region.name,
            timezone=region.timezone,
            state=rollout.state,
            phase=rollout.phase,
            percent=rollout.percent,
            version=rollout.version,
            halt_reason=rollout.halt_reason,
            target=effective(rollout.rollout_target, launch.rollout_target, default_target) or default_target,
            flag_key=effective(rollout.flag_key, launch.flag_key, launch.slug) or launch.slug,
            skipped_phases=skipped_phases(rollout),
        )
    ids = list(views)
    for phase_date in session.exec(select(PhaseDate).where(col(PhaseDate.rollout_id).in_(ids))):
        views[phase_date.rollout_id].phases.append(
            PhaseView(phase_date.phase, as_utc(phase_date.baseline_at), as_utc(phase_date.current_at))
        )
    for gate in session.exec(select(Gate).where(col(Gate.rollout_id).in_(ids))):
        views[gate.rollout_id].gates.append(_gate_view(session, gate, now=now))
    for rollout_id, phase, blocking, status, due in session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for at most four columns
            ChecklistItem.rollout_id,
            ChecklistItem.phase,
            ChecklistItem.blocking,
            ChecklistItem.status,
            ChecklistItem.due_at,
        ).where(ChecklistItem.launch_id == launch.id)
    ):
        view = views[rollout_id]
        view.items_total += 1
        if status not in SATISFYING_STATUSES:
            if blocking:
                view.items_open_blocking += 1
                if phase == view.phase:
                    view.phase_open_blocking += 1
            if due is not None and as_utc(due) < now:
                view.items_overdue += 1
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    for view in views.values():
        view.phases.sort(key=lambda p: order[p.phase])
        view.gates.sort(key=lambda g: (order[g.phase], g.kind.value))
    return LaunchDetail(launch=launch, rollouts=list(views.values()))


def _gate_view(session: Session, gate: Gate, *, now: datetime) -> GateView:
    """A gate as the launch detail shows it: beta-exit gates with each criterion's value now,
    approval gates with who approves and how many must say Go."""
    criteria: tuple[CriterionStatus, ...] = ()
    if gate.kind == GateKind.BETA_EXIT:
        criteria = tuple(beta_exit_status(session=session, rollout_id=gate.rollout_id, phase=gate.phase, now=now))
    assert gate.id is not None
    return GateView(
        gate.id, gate.phase, gate.kind, gate.status, criteria, tuple(gate.approvers), gate.quorum, gate.distinct_teams
    )


def skipped_phases(rollout: RegionRollout) -> list[Phase]:
    """The phases ``rollout`` skips on purpose, as phases, in order."""
    return [phase for phase in Phase.ordered() if phase.value in rollout.skipped_phases]


def launch_id_for(*, session: Session, slug: str) -> int:
    """The id of the launch called ``slug``; a slug that cannot exist is a 404 without a query."""
    if not re.fullmatch(SLUG_PATTERN, slug):
        raise NotFound("launch", slug)
    launch_id = session.exec(select(Launch.id).where(Launch.slug == slug)).first()
    if launch_id is None:
        raise NotFound("launch", slug)
    return launch_id


def rollout_id_for(*, session: Session, slug: str, region: str) -> int:
    """The rollout of launch ``slug`` in ``region`` (one query); NotFound names the launch's regions."""
    launch_id = launch_id_for(session=session, slug=slug)
    rows = session.exec(
        select(RegionRollout.id, Region.code)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == launch_id)
    ).all()
    session.commit()
    found = next((rollout_id for rollout_id, code in rows if code == region), None)
    if found is None:
        known = ", ".join(sorted(code for _id, code in rows))
        raise NotFound(f"region of launch {slug} (its regions: {known})", region)
    return found


@dataclass(frozen=True)
class LaunchActivity:
    """Marks that change whenever anyone moves a launch: its newest ledger event (every change,
    by a person or a worker step), how many of its side effects were delivered (exposure handed
    to the rollout target, Slack messages) and the leases workers took on its regions. Equal marks
    a while apart mean nothing happened to the launch in between, whatever its regions show."""

    last_event_id: int
    delivered: int
    leases: tuple[tuple[str | None, datetime | None], ...]


def launch_activity(*, session: Session, launch_id: int) -> LaunchActivity:
    last_event_id = session.exec(select(func.max(AuditEvent.id)).where(AuditEvent.launch_id == launch_id)).one()
    delivered = session.exec(
        select(func.count()).where(Outbox.launch_id == launch_id, Outbox.status == OutboxStatus.SENT)
    ).one()
    leases = session.exec(
        select(RegionRollout.lease_owner, RegionRollout.lease_until)
        .where(RegionRollout.launch_id == launch_id)
        .order_by(col(RegionRollout.id))
    ).all()
    session.commit()
    return LaunchActivity(last_event_id=last_event_id or 0, delivered=delivered, leases=tuple(leases))
