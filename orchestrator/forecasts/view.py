"""One launch's readiness forecast as people read it (API, CLI, the launch page): per region, when
its next gate's blocking items will be done, and what else that gate still waits for (the votes
missing, the beta exit criteria not met, the earlier regions of a sequential wave), read by
``orchestrator.reporting.blockers`` (``gate_waits``) as the worker judges them; then the forecasts
recorded so far, newest first. A pure read: recording is ``service.record_forecasts``."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, Phase, WaveMode
from orchestrator.core.errors import NotFound
from orchestrator.core.models import Forecast, Gate, Launch, Region, RegionRollout
from orchestrator.forecasts.projection import Projection, project
from orchestrator.forecasts.reads import ids_where, projections
from orchestrator.gates.beta_exit import CriterionStatus
from orchestrator.launches.spec import SLUG_PATTERN
from orchestrator.reporting.blockers import GateWaits, gate_waits
from orchestrator.reporting.burndown import Burndown
from orchestrator.reporting.forecast_misses import days_after, miss_reason

HISTORY_SHOWN = 50


@dataclass(frozen=True)
class RegionForecast:
    projection: Projection
    approvals_missing: tuple[str, ...]  # approvers without a counting vote, while the approval gate is open
    gos_needed: int  # Gos still needed for the quorum
    criteria_unmet: tuple[CriterionStatus, ...]  # beta exit criteria not met, while that gate is open
    waiting_for: tuple[str, ...]  # earlier regions of a sequential wave not yet live in the phase

    @property
    def conditions(self) -> tuple[str, ...]:
        """What the gate waits for besides its checklist, in words."""
        found = []
        if self.gos_needed:
            who = ", ".join(self.approvals_missing) or "nobody left to ask"
            found.append(f"{self.gos_needed} more Go{'s' if self.gos_needed != 1 else ''} needed; not voted: {who}")
        found += [f"beta exit: {criterion.label}" for criterion in self.criteria_unmet]
        if self.waiting_for:
            found.append(f"waits for {', '.join(self.waiting_for)} to be live first")
        return tuple(found)


@dataclass(frozen=True)
class RecordedForecast:
    region: str
    phase: Phase
    made_at: datetime
    confirmed_at: datetime
    phase_at: datetime
    projected_at: datetime | None
    open_blocking: int
    rate_per_day: float

    @property
    def days_late(self) -> int | None:
        return days_after(self.projected_at, self.phase_at) if self.projected_at is not None else None

    @property
    def reason(self) -> str | None:
        if self.open_blocking == 0:
            return None
        return miss_reason(region=self.region, phase=self.phase, projected_at=self.projected_at, phase_at=self.phase_at)


@dataclass(frozen=True)
class LaunchForecast:
    slug: str
    name: str
    generated_at: datetime
    regions: tuple[RegionForecast, ...]
    history: tuple[RecordedForecast, ...]  # the newest HISTORY_SHOWN, newest first

    @property
    def misses(self) -> tuple[str, ...]:
        return tuple(reason for region in self.regions if (reason := region.projection.reason) is not None)


def launch_forecast(*, session: Session, slug: str, now: datetime) -> LaunchForecast:
    """The forecast of every region of launch ``slug`` that has a gate ahead. NotFound for an
    unknown slug. Leaves the read's transaction to the caller."""
    found = (
        session.exec(select(Launch).where(Launch.slug == slug)).first() if re.fullmatch(SLUG_PATTERN, slug) else None
    )
    if found is None or found.id is None:
        raise NotFound("launch", slug)
    regions = _regions(session, launch_id=found.id)
    made = projections(session, which=ids_where([found.id]), now=now)
    return _forecast(session, launch=found, regions=regions, made=made, now=now)


def page_forecast(*, session: Session, launch: Launch, charts: Sequence[Burndown], now: datetime) -> LaunchForecast:
    """The launch page's forecast, from the burndowns the page has drawn already (each region's
    next gate, from the same items and ledger): the same projection, without reading them again."""
    assert launch.id is not None
    regions = _regions(session, launch_id=launch.id)
    made = [
        project(chart, launch_id=launch.id, rollout_id=regions.rollout_ids[chart.region])
        for chart in charts
        if chart.region in regions.rollout_ids
    ]
    return _forecast(session, launch=launch, regions=regions, made=made, now=now)


@dataclass(frozen=True)
class _Regions:
    rollout_ids: dict[str, int]  # by region code
    waiting: set[tuple[int, Phase]]  # (rollout, phase) with an approval or beta exit gate not passed


def _regions(session: Session, *, launch_id: int) -> _Regions:
    """The launch's regions, and those whose gates of a phase include an approval or beta exit
    gate not passed yet, in one statement."""
    rows = session.execute(
        select_columns(col(RegionRollout.id), col(Region.code), col(Gate.phase))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .outerjoin(
            Gate,
            (col(Gate.rollout_id) == col(RegionRollout.id))
            & col(Gate.kind).in_((GateKind.APPROVAL, GateKind.BETA_EXIT))
            & (col(Gate.status) != GateStatus.PASSED),
        )
        .where(col(RegionRollout.launch_id) == launch_id)
    ).all()
    return _Regions(
        rollout_ids={code: rollout_id for rollout_id, code, _phase in rows},
        waiting={(rollout_id, Phase(phase)) for rollout_id, _code, phase in rows if phase is not None},
    )


def _forecast(
    session: Session, *, launch: Launch, regions: _Regions, made: Sequence[Projection], now: datetime
) -> LaunchForecast:
    """What else each gate waits for is read (``gate_waits``, as ``blockers`` judges it) only for
    the regions whose next gate has an approval or beta exit gate not passed yet, or when the
    launch's waves are sequential: the others wait for nothing else, and reading nothing for them
    keeps the launch page's cost to two statements beside those regions'."""
    assert launch.id is not None
    found = []
    for projection in made:
        if launch.wave_mode == WaveMode.SEQUENTIAL or (projection.rollout_id, projection.phase) in regions.waiting:
            waits = gate_waits(session=session, rollout_id=projection.rollout_id, phase=projection.phase, now=now)
            found.append(_with_conditions(projection, waits))
        else:
            found.append(
                RegionForecast(projection, approvals_missing=(), gos_needed=0, criteria_unmet=(), waiting_for=())
            )
    return LaunchForecast(
        slug=launch.slug,
        name=launch.name,
        generated_at=now,
        regions=tuple(found),
        history=recorded_forecasts(session, launch_id=launch.id),
    )


def _waiting_for_nothing(projection: Projection) -> RegionForecast:
    return RegionForecast(projection, approvals_missing=(), gos_needed=0, criteria_unmet=(), waiting_for=())


def _with_conditions(projection: Projection, waits: GateWaits) -> RegionForecast:
    approval = waits.approval
    missing: tuple[str, ...] = ()
    gos_needed = 0
    if approval is not None and approval.status != GateStatus.PASSED:
        missing = approval.missing
        gos_needed = max(0, approval.needed - len(approval.gos))
    unmet: tuple[CriterionStatus, ...] = ()
    if waits.beta_exit is not None and waits.beta_exit.status != GateStatus.PASSED:
        unmet = tuple(criterion for criterion in waits.beta_exit.criteria if not criterion.met)
    return RegionForecast(
        projection=projection,
        approvals_missing=missing,
        gos_needed=gos_needed,
        criteria_unmet=unmet,
        waiting_for=waits.wave.waiting_for,
    )


def recorded_forecasts(session: Session, *, launch_id: int, limit: int = HISTORY_SHOWN) -> tuple[RecordedForecast, ...]:
    """The launch's recorded forecasts, newest first (by when each was last made)."""
    rows = session.exec(
        select(Forecast, Region.code)
        .join(RegionRollout, col(RegionRollout.id) == col(Forecast.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(Forecast.launch_id == launch_id)
        .order_by(col(Forecast.confirmed_at).desc(), col(Forecast.id).desc())
        .limit(limit)
    ).all()
    return tuple(
        RecordedForecast(
            region=code,
            phase=row.phase,
            made_at=as_utc(row.made_at),
            confirmed_at=as_utc(row.confirmed_at),
            phase_at=as_utc(row.phase_at),
            projected_at=as_utc(row.projected_at) if row.projected_at is not None else None,
            open_blocking=row.open_blocking,
            rate_per_day=row.rate_per_day,
        )
        for row, code in rows
    )
