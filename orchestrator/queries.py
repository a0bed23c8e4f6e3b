"""Read models for the CLI, API and pages: plain dataclasses built with a fixed number of
queries, however many launches there are."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from orchestrator.clock import as_utc, utcnow
from orchestrator.enums import SATISFYING_STATUSES, GateKind, GateStatus, LaunchStatus, Phase, RolloutState
from orchestrator.errors import NotFound
from orchestrator.models import ChecklistItem, Gate, Launch, PhaseDate, Region, RegionRollout


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
    phases: list[PhaseView] = field(default_factory=list)
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
    for launch_id, blocking, satisfied, count in session.exec(
        select(
            ChecklistItem.launch_id,
            ChecklistItem.blocking,
            col(ChecklistItem.status).in_(SATISFYING_STATUSES),
            func.count(),
        )
        .where(col(ChecklistItem.launch_id).in_(ids))
        .group_by(
            col(ChecklistItem.launch_id),
            col(ChecklistItem.blocking),
            col(ChecklistItem.status).in_(SATISFYING_STATUSES),
        )
    ):
        totals[launch_id] = totals.get(launch_id, 0) + count
        if blocking and not satisfied:
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
        )
    ids = list(views)
    for phase_date in session.exec(select(PhaseDate).where(col(PhaseDate.rollout_id).in_(ids))):
        views[phase_date.rollout_id].phases.append(
            PhaseView(phase_date.phase, as_utc(phase_date.baseline_at), as_utc(phase_date.current_at))
        )
    for gate in session.exec(select(Gate).where(col(Gate.rollout_id).in_(ids))):
        views[gate.rollout_id].gates.append(GateView(gate.id, gate.phase, gate.kind, gate.status))  # type: ignore[arg-type]
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
