"""Read models for the CLI, API and pages: plain dataclasses built with a fixed number of
queries, however many launches there are."""

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, not_
from sqlalchemy import select as select_columns
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from orchestrator.clock import as_utc, utcnow
from orchestrator.enums import (
    SATISFYING_STATUSES,
    GateKind,
    GateStatus,
    ItemStatus,
    LaunchStatus,
    Phase,
    RolloutState,
)
from orchestrator.errors import NotFound
from orchestrator.models import (
    AuditEvent,
    ChecklistItem,
    Decision,
    Gate,
    Launch,
    Member,
    PhaseDate,
    PhaseDateChange,
    Region,
    RegionRollout,
    Team,
    Waiver,
)
from orchestrator.services.beta_exit import CriterionStatus, beta_exit_status
from orchestrator.services.launches import SLUG_PATTERN


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
        criteria: tuple[CriterionStatus, ...] = ()
        if gate.kind == GateKind.BETA_EXIT:
            criteria = tuple(beta_exit_status(session=session, rollout_id=gate.rollout_id, phase=gate.phase, now=now))
        views[gate.rollout_id].gates.append(GateView(gate.id, gate.phase, gate.kind, gate.status, criteria))  # type: ignore[arg-type]
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


# ---- checklist items, audit, decisions, rollup: the API's read models ------------------------


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
class ItemView:
    """A checklist item with the names the API shows instead of ids (region code, team key)."""

    item: ChecklistItem
    region: str
    owner_team: str
    overdue: bool


@dataclass(frozen=True)
class ItemFilters:
    """What a caller may narrow an item listing by; None means "any"."""

    region: str | None = None
    phase: Phase | None = None
    team: str | None = None
    status: ItemStatus | None = None
    overdue: bool | None = None
    blocking: bool | None = None
    assignee_id: int | None = None


def _is_overdue(item: ChecklistItem, now: datetime) -> bool:
    return item.due_at is not None and as_utc(item.due_at) < now and item.status not in SATISFYING_STATUSES


def _overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The SQL twin of ``_is_overdue``: past due and not done, waived or n/a."""
    return and_(
        col(ChecklistItem.due_at).is_not(None),
        col(ChecklistItem.due_at) < now,
        col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
    )


def list_items(
    *, session: Session, launch_id: int, filters: ItemFilters, limit: int, offset: int, now: datetime | None = None
) -> tuple[list[ItemView], int]:
    """One page of a launch's items and how many match, in two statements.

    Ordered by region rollout order, phase, due date (undated last) and id, so pages are stable.
    """
    now = now or utcnow()
    conditions: list[ColumnElement[bool]] = [col(ChecklistItem.launch_id) == launch_id]
    if filters.region is not None:
        conditions.append(col(Region.code) == filters.region)
    if filters.phase is not None:
        conditions.append(col(ChecklistItem.phase) == filters.phase)
    if filters.team is not None:
        conditions.append(col(Team.key) == filters.team)
    if filters.status is not None:
        conditions.append(col(ChecklistItem.status) == filters.status)
    if filters.overdue is not None:
        overdue = _overdue_clause(now)
        conditions.append(overdue if filters.overdue else not_(overdue))
    if filters.blocking is not None:
        conditions.append(col(ChecklistItem.blocking).is_(filters.blocking))
    if filters.assignee_id is not None:
        conditions.append(col(ChecklistItem.assignee_id) == filters.assignee_id)

    def joined(statement: Any) -> Any:
        return (
            statement.join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
            .where(*conditions)
        )

    total = int(session.exec(joined(select(func.count()).select_from(ChecklistItem))).one())
    phase_rank = case({phase.value: index for index, phase in enumerate(Phase.ordered())}, value=ChecklistItem.phase)
    rows = session.exec(
        joined(select(ChecklistItem, Region.code, Team.key))
        .order_by(
            col(Region.rollout_order),
            col(Region.code),
            phase_rank,
            col(ChecklistItem.due_at).is_(None),
            col(ChecklistItem.due_at),
            col(ChecklistItem.id),
        )
        .limit(limit)
        .offset(offset)
        .execution_options(populate_existing=True)
    ).all()
    return [ItemView(item, code, team, _is_overdue(item, now)) for item, code, team in rows], total


def item_view(*, session: Session, item_id: int, now: datetime | None = None) -> ItemView:
    """One item as the API shows it, read fresh (a service in this session may just have changed it)."""
    row = session.exec(
        select(ChecklistItem, Region.code, Team.key)
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(ChecklistItem.id == item_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("checklist item", item_id)
    item, code, team = row
    return ItemView(item, code, team, _is_overdue(item, now or utcnow()))


@dataclass(frozen=True)
class ItemOwner:
    """What a change request needs to know of an item before the change: its owning team (a
    member may change only its own team's items) and the names the answer shows, which no
    change alters. Columns only, so the service's locked read is the one that loads the row."""

    key: str
    owner_team_id: int
    owner_team: str
    region: str


_ITEM_OWNER = (
    select_columns(col(ChecklistItem.key), col(ChecklistItem.owner_team_id), col(Team.key), col(Region.code))
    .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
    .join(Region, col(Region.id) == col(RegionRollout.region_id))
    .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
    .where(col(ChecklistItem.id) == bindparam("item_id"))
)


def item_owner(*, session: Session, item_id: int) -> ItemOwner:
    # Core, on the session's connection: a columns-only read needs no ORM execution context.
    row = session.connection().execute(_ITEM_OWNER, {"item_id": item_id}).first()
    if row is None:
        raise NotFound("checklist item", item_id)
    key, owner_team_id, owner_team, region = row
    return ItemOwner(key=key, owner_team_id=owner_team_id, owner_team=owner_team, region=region)


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    entity: str | None = None
    actor: str | None = None


def list_audit(
    *, session: Session, launch_id: int, filters: AuditFilters, limit: int, offset: int
) -> tuple[list[AuditEvent], int]:
    """One page of a launch's ledger, newest first (id breaks ties within the same instant)."""
    conditions: list[ColumnElement[bool]] = [col(AuditEvent.launch_id) == launch_id]
    if filters.action is not None:
        conditions.append(col(AuditEvent.action) == filters.action)
    if filters.entity is not None:
        conditions.append(col(AuditEvent.entity) == filters.entity)
    if filters.actor is not None:
        conditions.append(col(AuditEvent.actor) == filters.actor)
    total = int(session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one())
    events = session.exec(
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return list(events), total


@dataclass(frozen=True)
class VoteView:
    """A vote with the gate it was cast on, named by region and phase."""

    decision: Decision
    gate_id: int
    gate_status: GateStatus
    phase: Phase
    region: str


@dataclass(frozen=True)
class WaiverView:
    waiver: Waiver
    item_key: str
    phase: Phase
    region: str


@dataclass(frozen=True)
class DecisionLog:
    votes: list[VoteView]
    waivers: list[WaiverView]


def _votes(session: Session, *condition: ColumnElement[bool]) -> list[VoteView]:
    rows = session.exec(
        select(Decision, Gate, Region.code)
        .join(Gate, col(Gate.id) == col(Decision.gate_id))
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(*condition)
        .order_by(col(Decision.cast_at).desc(), col(Decision.id).desc())
        .execution_options(populate_existing=True)
    ).all()
    return [VoteView(decision, gate.id, gate.status, gate.phase, code) for decision, gate, code in rows]  # type: ignore[arg-type]


def vote_view(*, session: Session, decision_id: int) -> VoteView:
    found = _votes(session, col(Decision.id) == decision_id)
    if not found:
        raise NotFound("decision", decision_id)
    return found[0]


def decision_log(*, session: Session, launch_id: int) -> DecisionLog:
    """Every current vote and every waiver (revoked ones too) of a launch, newest first, in two
    statements: the record leadership and auditors read to see who accepted which risk."""
    votes = _votes(session, col(RegionRollout.launch_id) == launch_id)
    rows = session.exec(
        select(Waiver, ChecklistItem.key, ChecklistItem.phase, Region.code)
        .join(ChecklistItem, col(ChecklistItem.id) == col(Waiver.item_id))
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(col(ChecklistItem.launch_id) == launch_id)
        .order_by(col(Waiver.created_at).desc(), col(Waiver.id).desc())
    ).all()
    return DecisionLog(
        votes=votes, waivers=[WaiverView(waiver, key, Phase(phase), code) for waiver, key, phase, code in rows]
    )


@dataclass(frozen=True)
class TeamReadiness:
    """How far one team is with one launch. "Done" counts done, waived and n/a: what no longer
    holds a gate closed."""

    team: str
    team_name: str
    blocking_done: int
    blocking_total: int
    done: int
    total: int


def team_readiness(*, session: Session, launch_ids: Sequence[int]) -> dict[int, list[TeamReadiness]]:
    """Per launch, each owning team's done/total counts (blocking and all), in one statement."""
    satisfied = col(ChecklistItem.status).in_(SATISFYING_STATUSES)
    blocking = col(ChecklistItem.blocking).is_(True)

    def tally(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    statement = (
        select_columns(
            col(ChecklistItem.launch_id),
            col(Team.key),
            col(Team.name),
            tally(and_(blocking, satisfied)),
            tally(blocking),
            tally(satisfied),
            func.count(),
        )
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(col(ChecklistItem.launch_id).in_(list(launch_ids)))
        .group_by(col(ChecklistItem.launch_id), col(Team.key), col(Team.name))
        .order_by(col(ChecklistItem.launch_id), col(Team.key))
    )
    readiness: dict[int, list[TeamReadiness]] = defaultdict(list)
    for launch_id, key, name, blocking_done, blocking_total, done, total in session.execute(statement):
        readiness[launch_id].append(
            TeamReadiness(key, name, int(blocking_done), int(blocking_total), int(done), int(total))
        )
    return readiness


@dataclass(frozen=True)
class PhaseSlip:
    """A phase date that moved away from its baseline, with the reason of its latest move."""

    region: str
    phase: Phase
    baseline_at: datetime
    current_at: datetime
    reason: str | None

    @property
    def slip_days(self) -> float:
        return (self.current_at - self.baseline_at).total_seconds() / 86400


def phase_slips(*, session: Session, launch_ids: Sequence[int]) -> dict[int, list[PhaseSlip]]:
    """Per launch, every phase date not on its baseline (later or earlier), in two statements."""
    rows = session.exec(
        select(PhaseDate, RegionRollout.launch_id, Region.code)
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(
            col(RegionRollout.launch_id).in_(list(launch_ids)),
            col(PhaseDate.current_at) != col(PhaseDate.baseline_at),
        )
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    reasons: dict[int, str] = {}
    for phase_date_id, reason in session.exec(
        select(PhaseDateChange.phase_date_id, PhaseDateChange.reason)
        .where(col(PhaseDateChange.phase_date_id).in_([phase_date.id for phase_date, _launch, _code in rows]))
        .order_by(col(PhaseDateChange.changed_at), col(PhaseDateChange.id))
    ):
        reasons[phase_date_id] = reason  # ordered oldest first, so the latest reason wins
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    slips: dict[int, list[PhaseSlip]] = defaultdict(list)
    for phase_date, launch_id, code in sorted(rows, key=lambda row: order[row[0].phase]):
        slips[launch_id].append(
            PhaseSlip(
                region=code,
                phase=phase_date.phase,
                baseline_at=as_utc(phase_date.baseline_at),
                current_at=as_utc(phase_date.current_at),
                reason=reasons.get(phase_date.id),  # type: ignore[arg-type]
            )
        )
    return slips


@dataclass(frozen=True)
class MemberView:
    member: Member
    team: str | None


def list_teams(*, session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.key))).all())


def list_regions(*, session: Session) -> list[tuple[Region, str | None]]:
    """Regions in rollout order, each with its parent's code (one statement, self-join)."""
    parent = aliased(Region)
    rows = session.exec(
        select(Region, parent.code)
        .outerjoin(parent, col(parent.id) == col(Region.parent_id))
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    return [(region, code) for region, code in rows]


def list_members(*, session: Session) -> list[MemberView]:
    rows = session.exec(
        select(Member, Team.key).outerjoin(Team, col(Team.id) == col(Member.team_id)).order_by(col(Member.email))
    ).all()
    return [MemberView(member, key) for member, key in rows]
