"""One launch's readiness forecast as people read it (API, CLI, the launch page): per region, when
its next gate's blocking items will be done, and what else that gate still waits for (the votes
missing, the beta exit criteria not met, the earlier regions of a sequential wave), read by
``orchestrator.reporting.blockers`` (``gate_waits``) as the worker judges them; then the forecasts
recorded so far, newest first. A pure read: recording is ``service.record_forecasts``."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, Phase, WaveMode
from orchestrator.core.models import Forecast, Gate, Launch, Region, RegionRollout
from orchestrator.forecasts.projection import Projection
from orchestrator.forecasts.reads import ids_where, projections
from orchestrator.gates.beta_exit import CriterionStatus
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.blockers import GateWaits, gate_waits
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
    unknown slug. Leaves the read's transaction to the caller.

    What else a gate waits for is read (``gate_waits``, as ``blockers`` judges it) only for the
    regions whose next gate has an approval or beta exit gate not passed yet, or when the launch's
    waves are sequential: the others wait for nothing else, and reading nothing keeps the launch
    page's cost down to a few statements per such region."""
    launch_id = launch_id_for(session=session, slug=slug)
    name, wave_mode = session.exec(select(Launch.name, Launch.wave_mode).where(Launch.id == launch_id)).one()
    waiting = _open_condition_gates(session, launch_id=launch_id)
    regions = []
    for projection in projections(session, which=ids_where([launch_id]), now=now):
        if wave_mode == WaveMode.SEQUENTIAL or (projection.rollout_id, projection.phase) in waiting:
            waits = gate_waits(session=session, rollout_id=projection.rollout_id, phase=projection.phase, now=now)
            regions.append(_with_conditions(projection, waits))
        else:
            regions.append(
                RegionForecast(projection, approvals_missing=(), gos_needed=0, criteria_unmet=(), waiting_for=())
            )
    return LaunchForecast(
        slug=slug,
        name=name,
        generated_at=now,
        regions=tuple(regions),
        history=recorded_forecasts(session, launch_id=launch_id),
    )


def _open_condition_gates(session: Session, *, launch_id: int) -> set[tuple[int, Phase]]:
    """The (region, phase) pairs of the launch with an approval or beta exit gate not yet passed."""
    rows = session.exec(
        select(Gate.rollout_id, Gate.phase)
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .where(
            RegionRollout.launch_id == launch_id,
            col(Gate.kind).in_((GateKind.APPROVAL, GateKind.BETA_EXIT)),
            Gate.status != GateStatus.PASSED,
        )
    ).all()
    return {(rollout_id, Phase(phase)) for rollout_id, phase in rows}


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
