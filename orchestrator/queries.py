"""Read models for the CLI, API and pages: plain dataclasses built with a fixed number of
queries, however many launches there are."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

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


@dataclass(frozen=True)
class LaunchDetail:
    launch: Launch
    rollouts: list[RolloutView]


def list_launches(*, session: Session, status: LaunchStatus | None = None) -> list[LaunchSummary]:
    statement = select(Launch).order_by(Launch.created_at.desc(), Launch.id.desc())  # type: ignore[attr-defined]
    if status is not None:
        statement = statement.where(Launch.status == status)
    launches = list(session.execute(statement).scalars())
    ids = [launch.id for launch in launches]
    regions: dict[int, list[str]] = defaultdict(list)
    for launch_id, code in session.execute(
        select(RegionRollout.launch_id, Region.code)
        .join(Region, Region.id == RegionRollout.region_id)
        .where(RegionRollout.launch_id.in_(ids))  # type: ignore[attr-defined]
        .order_by(Region.rollout_order)
    ):
        regions[launch_id].append(code)
    totals: dict[int, int] = {}
    open_blocking: dict[int, int] = {}
    for launch_id, blocking, satisfied, count in session.execute(
        select(
            ChecklistItem.launch_id,
            ChecklistItem.blocking,
            ChecklistItem.status.in_(SATISFYING_STATUSES),  # type: ignore[attr-defined]
            func.count(),
        )
        .where(ChecklistItem.launch_id.in_(ids))  # type: ignore[attr-defined]
        .group_by(
            ChecklistItem.launch_id, ChecklistItem.blocking, ChecklistItem.status.in_(SATISFYING_STATUSES)
        )  # type: ignore[attr-defined]
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
    launch = session.execute(select(Launch).where(Launch.slug == slug)).scalar_one_or_none()
    if launch is None:
        raise NotFound("launch", slug)
    views: dict[int, RolloutView] = {}
    for rollout, region in session.execute(
        select(RegionRollout, Region)
        .join(Region, Region.id == RegionRollout.region_id)
        .where(RegionRollout.launch_id == launch.id)
        .order_by(Region.rollout_order, Region.code)
    ).tuples():
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
    for phase_date in session.execute(
        select(PhaseDate).where(PhaseDate.rollout_id.in_(ids))  # type: ignore[attr-defined]
    ).scalars():
        views[phase_date.rollout_id].phases.append(
            PhaseView(phase_date.phase, as_utc(phase_date.baseline_at), as_utc(phase_date.current_at))
        )
    for gate in session.execute(select(Gate).where(Gate.rollout_id.in_(ids))).scalars():  # type: ignore[attr-defined]
        views[gate.rollout_id].gates.append(GateView(gate.id, gate.phase, gate.kind, gate.status))  # type: ignore[arg-type]
    for item in session.execute(
        select(
            ChecklistItem.rollout_id, ChecklistItem.blocking, ChecklistItem.status, ChecklistItem.due_at
        ).where(ChecklistItem.launch_id == launch.id)
    ):
        view = views[item.rollout_id]
        view.items_total += 1
        if item.status not in SATISFYING_STATUSES:
            if item.blocking:
                view.items_open_blocking += 1
            if item.due_at is not None and as_utc(item.due_at) < now:
                view.items_overdue += 1
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    for view in views.values():
        view.phases.sort(key=lambda p: order[p.phase])
        view.gates.sort(key=lambda g: (order[g.phase], g.kind.value))
    return LaunchDetail(launch=launch, rollouts=list(views.values()))
