"""The launch page's region x phase matrix: one row per region, one cell per phase, each with its
dates, slip, gates, open blocking items and RAG; read in three statements for the whole launch."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, ItemStatus, Phase, RolloutState
from orchestrator.core.models import Gate, PhaseDate, Region, RegionRollout
from orchestrator.gates.beta_exit import CriterionStatus
from orchestrator.reporting.launch_items import ItemRow
from orchestrator.reporting.rag import RagRules, RagStatus, RegionDigest, rag_for

PHASES = Phase.ordered()


_ORDER = {phase: index for index, phase in enumerate(PHASES)}


@dataclass(frozen=True)
class Cell:
    """One region in one phase: what the matrix shows."""

    phase: Phase
    # words: not started / gated / ready / rolling out 25% / live / halted / rolled back / done / skipped
    status: str
    baseline_at: datetime | None
    current_at: datetime | None
    slip_days: int
    gates: str  # e.g. "checklist passed, approval open"
    open_blocking: int
    blocking_total: int
    rag: RagStatus | None  # None for a skipped phase: it is neither on track nor in trouble
    criteria: tuple[CriterionStatus, ...] = ()  # of the cell's beta-exit gate, if it has one

    @property
    def skipped(self) -> bool:
        return self.rag is None


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    timezone: str
    state: RolloutState
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class LaunchLayout:
    """A launch's regions (in rollout order) with their phase dates and gates."""

    rollouts: Sequence[tuple[RegionRollout, Region]]
    dates: Mapping[int, Mapping[Phase, PhaseDate]]  # rollout id -> phase -> its dates
    gates: Mapping[tuple[int, Phase], Sequence[Gate]]  # (rollout id, phase) -> its gates, by kind


def read_layout(session: Session, *, launch_id: int) -> LaunchLayout:
    """The launch's regions, phase dates and gates, in three statements."""
    rollouts = session.exec(
        select(RegionRollout, Region)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == launch_id)
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    rollout_ids = [rollout.id for rollout, _region in rollouts]
    dates: dict[int, dict[Phase, PhaseDate]] = defaultdict(dict)
    for phase_date in session.exec(select(PhaseDate).where(col(PhaseDate.rollout_id).in_(rollout_ids))):
        dates[phase_date.rollout_id][phase_date.phase] = phase_date
    gates: dict[tuple[int, Phase], list[Gate]] = defaultdict(list)
    for gate in session.exec(select(Gate).where(col(Gate.rollout_id).in_(rollout_ids)).order_by(col(Gate.kind))):
        gates[(gate.rollout_id, gate.phase)].append(gate)
    return LaunchLayout(rollouts=rollouts, dates=dates, gates=gates)


def items_by_cell(items: Sequence[ItemRow]) -> dict[tuple[str, Phase], list[ItemRow]]:
    """Items by (region code, phase): a matrix cell's items."""
    by_cell: dict[tuple[str, Phase], list[ItemRow]] = defaultdict(list)
    for item in items:
        by_cell[(item.region, item.phase)].append(item)
    return by_cell


def region_rows(
    layout: LaunchLayout,
    *,
    by_cell: Mapping[tuple[str, Phase], Sequence[ItemRow]],
    criteria: Mapping[tuple[int, Phase], Sequence[CriterionStatus]],
    now: datetime,
    rules: RagRules,
) -> tuple[RegionRow, ...]:
    """The matrix: a cell per phase for every region; a cell with a beta-exit gate shows its
    criteria (``criteria``, by rollout id and gate phase)."""
    rows = []
    for rollout, region in layout.rollouts:
        assert rollout.id is not None
        cells = tuple(
            _cell(
                rollout=rollout,
                region=region.code,
                phase=phase,
                planned=layout.dates.get(rollout.id, {}).get(phase),
                gates=layout.gates.get((rollout.id, phase), []),
                items=by_cell.get((region.code, phase), []),
                now=now,
                rules=rules,
                criteria=criteria.get((rollout.id, phase), [])
                if any(gate.kind == GateKind.BETA_EXIT for gate in layout.gates.get((rollout.id, phase), []))
                else [],
            )
            for phase in PHASES
        )
        rows.append(RegionRow(region.code, region.name, region.timezone, rollout.state, cells))
    return tuple(rows)


def _cell(
    *,
    rollout: RegionRollout,
    region: str,
    phase: Phase,
    planned: PhaseDate | None,
    gates: Sequence[Gate],
    items: Sequence[ItemRow],
    now: datetime,
    rules: RagRules,
    criteria: Sequence[CriterionStatus],
) -> Cell:
    if phase.value in rollout.skipped_phases:
        return _skipped_cell(phase)
    current = _ORDER[rollout.phase] if rollout.phase is not None else -1
    here = _ORDER[phase]
    if rollout.phase == phase:
        status = _state_words(rollout)
    elif here < current:
        status = "done"
    else:
        status = "not started"
    slip = 0
    if planned is not None:
        slip = round((as_utc(planned.current_at) - as_utc(planned.baseline_at)) / timedelta(days=1))
    open_blocking = [item for item in items if item.blocking and item.is_open()]
    upcoming = [item.due_at for item in open_blocking if item.due_at is not None and item.due_at >= now]
    counts = RegionDigest(
        region=region,
        region_name=region,
        state=rollout.state if rollout.phase == phase else RolloutState.PLANNED,
        phase=phase,
        percent=rollout.percent,
        open_blocking=len(open_blocking),
        overdue_blocking=sum(1 for item in open_blocking if item.due_at is not None and item.due_at < now),
        blocked=sum(1 for item in items if item.status == ItemStatus.BLOCKED),
        blocked_blocking=sum(1 for item in open_blocking if item.status == ItemStatus.BLOCKED),
        next_blocking_due_at=min(upcoming, default=None),
        slip_days=max(slip, 0) if here >= current else 0,
        slip_phase=phase if here >= current and slip > 0 else None,
        next_gate_phase=None,
        next_gate_at=None,
    )
    gate_words = ", ".join(f"{gate.kind.value.replace('_', ' ')} {_gate_words(gate.status)}" for gate in gates)
    return Cell(
        phase=phase,
        status=status,
        baseline_at=as_utc(planned.baseline_at) if planned is not None else None,
        current_at=as_utc(planned.current_at) if planned is not None else None,
        slip_days=slip,
        gates=gate_words or "no gate",
        open_blocking=len(open_blocking),
        blocking_total=sum(1 for item in items if item.blocking),
        rag=rag_for([counts], now=now, rules=rules),
        criteria=tuple(criteria),
    )


def _skipped_cell(phase: Phase) -> Cell:
    """A phase the region skips on purpose: no date, no gate, no items and no colour, so it reads
    neither as done (green) nor as a problem, whatever phase the region is in."""
    return Cell(
        phase=phase,
        status="skipped",
        baseline_at=None,
        current_at=None,
        slip_days=0,
        gates="no gate",
        open_blocking=0,
        blocking_total=0,
        rag=None,
    )


def _state_words(rollout: RegionRollout) -> str:
    if rollout.state == RolloutState.ROLLING_OUT:
        return f"rolling out {rollout.percent}%"
    return rollout.state.value.replace("_", " ")


def _gate_words(status: GateStatus) -> str:
    return {GateStatus.PENDING: "pending", GateStatus.OPEN: "open", GateStatus.PASSED: "passed"}[status]
