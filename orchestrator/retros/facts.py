"""What a retro is computed from, read for one launch in a fixed number of statements: its
regions, gates, the ledger's region and item events, items, slips, waivers, conditional Gos,
recorded forecasts and beta feedback. Plain rows (frozen dataclasses), so the figures
(``figures.py``) are pure functions a test can also feed by hand."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import FeedbackStatus, GateKind, ItemStatus, LaunchStatus, Phase, Vote
from orchestrator.core.errors import NotFound
from orchestrator.core.models import (
    AuditEvent,
    BetaFeedback,
    ChecklistItem,
    Decision,
    Forecast,
    Gate,
    Launch,
    PhaseDate,
    PhaseDateChange,
    Region,
    RegionRollout,
    Team,
    Waiver,
)
from orchestrator.forecasts.reads import status_change
from orchestrator.launches.queries import launch_id_for

_PHASE_VALUES = frozenset(phase.value for phase in Phase)


@dataclass(frozen=True)
class LaunchRow:
    id: int
    slug: str
    name: str
    tier: int
    owner: str
    status: LaunchStatus


@dataclass(frozen=True)
class RegionRow:
    rollout_id: int
    code: str
    name: str


@dataclass(frozen=True)
class GateRow:
    rollout_id: int
    phase: Phase
    kind: GateKind
    opened_at: datetime | None
    passed_at: datetime | None


@dataclass(frozen=True)
class LedgerEvent:
    """A region's or the launch's audit event: ``rollout_id`` None for the launch's own."""

    rollout_id: int | None
    action: str
    phase: Phase | None
    at: datetime


@dataclass(frozen=True)
class ItemRow:
    id: int
    rollout_id: int
    phase: Phase
    title: str
    team: str  # the owning team's name
    blocking: bool
    status: ItemStatus
    due_at: datetime | None
    checked_at: datetime | None  # when it was last done, waived or marked n/a


@dataclass(frozen=True)
class ItemClosed:
    """An item leaving the open set (``closed``) or re-entering it, from the ledger."""

    item_id: int
    at: datetime
    closed: bool
    status: ItemStatus  # the status it moved to
    actor: str


@dataclass(frozen=True)
class SlipRow:
    rollout_id: int
    phase: Phase
    old_at: datetime
    new_at: datetime
    reason: str
    actor: str
    changed_at: datetime


@dataclass(frozen=True)
class WaiverRow:
    item_id: int
    approver: str
    reason: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class ConditionalGoRow:
    rollout_id: int
    phase: Phase
    voter: str
    conditions: str
    risk_accepted_by: str | None
    cast_at: datetime
    voided_at: datetime | None


@dataclass(frozen=True)
class ForecastRow:
    rollout_id: int
    phase: Phase
    made_at: datetime
    phase_at: datetime
    projected_at: datetime | None
    open_blocking: int


@dataclass(frozen=True)
class FeedbackRow:
    rollout_id: int
    severity: int
    status: FeedbackStatus
    reports: int
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class RetroFacts:
    launch: LaunchRow
    regions: tuple[RegionRow, ...]  # in rollout order
    gates: tuple[GateRow, ...]
    events: tuple[LedgerEvent, ...]  # oldest first
    items: tuple[ItemRow, ...]
    changes: tuple[ItemClosed, ...]  # oldest first
    slips: tuple[SlipRow, ...]  # oldest first
    waivers: tuple[WaiverRow, ...]
    conditional_gos: tuple[ConditionalGoRow, ...]
    forecasts: tuple[ForecastRow, ...]
    feedback: tuple[FeedbackRow, ...]


def _when(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def read_facts(*, session: Session, slug: str) -> RetroFacts:
    """Everything one launch's retro needs, in twelve statements whatever the launch's size."""
    launch_id = launch_id_for(session=session, slug=slug)
    launch = session.get(Launch, launch_id)
    if launch is None:
        raise NotFound("launch", slug)
    regions = tuple(
        RegionRow(rollout_id, code, name)
        for rollout_id, code, name in session.exec(
            select(RegionRollout.id, Region.code, Region.name)
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(RegionRollout.launch_id == launch_id)
            .order_by(col(Region.rollout_order), col(Region.code))
        )
        if rollout_id is not None
    )
    return RetroFacts(
        launch=LaunchRow(launch_id, launch.slug, launch.name, launch.tier, launch.owner, launch.status),
        regions=regions,
        gates=_gates(session, launch_id),
        events=_events(session, launch_id),
        items=_items(session, launch_id),
        changes=_changes(session, launch_id),
        slips=_slips(session, launch_id),
        waivers=_waivers(session, launch_id),
        conditional_gos=_conditional_gos(session, launch_id),
        forecasts=_forecasts(session, launch_id),
        feedback=_feedback(session, launch_id),
    )


def _gates(session: Session, launch_id: int) -> tuple[GateRow, ...]:
    rows = session.execute(
        select_columns(col(Gate.rollout_id), col(Gate.phase), col(Gate.kind), col(Gate.opened_at), col(Gate.passed_at))
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .where(col(RegionRollout.launch_id) == launch_id)
    ).all()
    return tuple(
        GateRow(rollout, phase, kind, _when(opened), _when(passed)) for rollout, phase, kind, opened, passed in rows
    )


def _events(session: Session, launch_id: int) -> tuple[LedgerEvent, ...]:
    """The regions' state changes and the launch's kickoff and completion, oldest first."""
    rows = session.execute(
        select_columns(
            col(AuditEvent.entity),
            col(AuditEvent.entity_id),
            col(AuditEvent.action),
            col(AuditEvent.after),
            col(AuditEvent.at),
        )
        .where(col(AuditEvent.launch_id) == launch_id, col(AuditEvent.entity).in_(("rollout", "launch")))
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    events = []
    for entity, entity_id, action, after, at in rows:
        phase = str((after or {}).get("phase"))
        events.append(
            LedgerEvent(
                rollout_id=entity_id if entity == "rollout" else None,
                action=action,
                phase=Phase(phase) if phase in _PHASE_VALUES else None,
                at=as_utc(at),
            )
        )
    return tuple(events)


def _items(session: Session, launch_id: int) -> tuple[ItemRow, ...]:
    """Columns, not entities: a launch has hundreds of items, and the retro needs nine fields."""
    rows = session.execute(
        select_columns(
            col(ChecklistItem.id),
            col(ChecklistItem.rollout_id),
            col(ChecklistItem.phase),
            col(ChecklistItem.title),
            col(Team.name),
            col(ChecklistItem.blocking),
            col(ChecklistItem.status),
            col(ChecklistItem.due_at),
            col(ChecklistItem.checked_at),
        )
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(col(ChecklistItem.launch_id) == launch_id)
        .order_by(col(ChecklistItem.id))
    ).all()
    return tuple(
        ItemRow(item_id, rollout_id, phase, title, team, blocking, status, _when(due_at), _when(checked_at))
        for item_id, rollout_id, phase, title, team, blocking, status, due_at, checked_at in rows
    )


def _changes(session: Session, launch_id: int) -> tuple[ItemClosed, ...]:
    rows = session.execute(
        select_columns(
            col(AuditEvent.entity_id),
            col(AuditEvent.before),
            col(AuditEvent.after),
            col(AuditEvent.at),
            col(AuditEvent.actor),
        )
        .where(col(AuditEvent.launch_id) == launch_id, col(AuditEvent.entity) == "item")
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    found = []
    for item_id, before, after, at, actor in rows:
        change = status_change(before, after, at)
        if change is not None and item_id is not None:
            found.append(ItemClosed(int(item_id), change.at, change.closed, ItemStatus((after or {})["status"]), actor))
    return tuple(found)


def _slips(session: Session, launch_id: int) -> tuple[SlipRow, ...]:
    rows = session.exec(
        select(PhaseDate.rollout_id, PhaseDate.phase, PhaseDateChange)
        .join(PhaseDate, col(PhaseDate.id) == col(PhaseDateChange.phase_date_id))
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .where(RegionRollout.launch_id == launch_id)
        .order_by(col(PhaseDateChange.changed_at), col(PhaseDateChange.id))
    ).all()
    return tuple(
        SlipRow(rollout, Phase(phase), as_utc(c.old_at), as_utc(c.new_at), c.reason, c.actor, as_utc(c.changed_at))
        for rollout, phase, c in rows
    )


def _waivers(session: Session, launch_id: int) -> tuple[WaiverRow, ...]:
    rows = session.exec(
        select(Waiver)
        .join(ChecklistItem, col(ChecklistItem.id) == col(Waiver.item_id))
        .where(ChecklistItem.launch_id == launch_id)
        .order_by(col(Waiver.created_at), col(Waiver.id))
    ).all()
    return tuple(
        WaiverRow(w.item_id, w.approver, w.reason, as_utc(w.created_at), _when(w.expires_at), _when(w.revoked_at))
        for w in rows
    )


def _conditional_gos(session: Session, launch_id: int) -> tuple[ConditionalGoRow, ...]:
    rows = session.exec(
        select(Gate.rollout_id, Gate.phase, Decision)
        .join(Gate, col(Gate.id) == col(Decision.gate_id))
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .where(RegionRollout.launch_id == launch_id, Decision.vote == Vote.CONDITIONAL_GO)
        .order_by(col(Decision.cast_at), col(Decision.id))
    ).all()
    return tuple(
        ConditionalGoRow(
            rollout,
            Phase(phase),
            d.voter,
            d.conditions or "",
            d.risk_accepted_by,
            as_utc(d.cast_at),
            _when(d.voided_at),
        )
        for rollout, phase, d in rows
    )


def _forecasts(session: Session, launch_id: int) -> tuple[ForecastRow, ...]:
    rows = session.execute(
        select_columns(
            col(Forecast.rollout_id),
            col(Forecast.phase),
            col(Forecast.made_at),
            col(Forecast.phase_at),
            col(Forecast.projected_at),
            col(Forecast.open_blocking),
        )
        .where(col(Forecast.launch_id) == launch_id)
        .order_by(col(Forecast.made_at), col(Forecast.id))
    ).all()
    return tuple(
        ForecastRow(rollout_id, phase, as_utc(made_at), as_utc(phase_at), _when(projected_at), open_blocking)
        for rollout_id, phase, made_at, phase_at, projected_at, open_blocking in rows
    )


def _feedback(session: Session, launch_id: int) -> tuple[FeedbackRow, ...]:
    rows = session.exec(select(BetaFeedback).where(BetaFeedback.launch_id == launch_id)).all()
    return tuple(
        FeedbackRow(f.rollout_id, f.severity, f.status, f.reports, as_utc(f.created_at), _when(f.resolved_at))
        for f in rows
    )
