"""What is blocking one region of a launch from entering one phase, in one answer.

Every condition of the phase's gates, read the way the worker judges them (``orchestrator.gates``):
the open blocking checklist items with their owners, due dates and dependencies, the approval
gate's votes counted by ``quorum.tally``, the time gate's date (with the region's rollout window
and freezes), the earlier regions a sequential wave waits for, and the beta exit criteria with
their current values. The same read model answers the CLI (``launchdeck launch blockers``) and the
API (``GET /launches/{slug}/blockers``), and ``reasons`` says it all in sentences a person reads
(``orchestrator.reporting.blockers_words``). Read-only: it changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import (
    SATISFYING_STATUSES,
    GateKind,
    GateStatus,
    ItemStatus,
    Phase,
    RolloutState,
    Vote,
    WaveMode,
)
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import ChecklistItem, Decision, Gate, Launch, Member, RegionRollout, Team
from orchestrator.gates.beta_exit import CriterionStatus, evaluate_criteria, exited_phase
from orchestrator.gates.quorum import go_max_age, tally
from orchestrator.gates.service import phase_start, time_gate_opening, wave_blockers
from orchestrator.launches.queries import rollout_id_for
from orchestrator.reporting.blockers_words import explained

_DAY = timedelta(days=1)
_MOVING = frozenset({RolloutState.READY, RolloutState.ROLLING_OUT, RolloutState.LIVE})


@dataclass(frozen=True)
class Dependency:
    """An item a blocking item waits for (same region); ``status`` None: no such item there."""

    key: str
    status: ItemStatus | None
    done: bool


@dataclass(frozen=True)
class BlockingItem:
    id: int
    key: str
    title: str
    status: ItemStatus
    owner_team: str  # the team's name
    assignee_name: str | None
    assignee_email: str | None
    due_at: datetime | None
    overdue: bool
    days_late: int  # whole days past due; 0 when not late (or late by less than a day)
    blocked_reason: str | None
    depends_on: tuple[Dependency, ...]


@dataclass(frozen=True)
class VoteLine:
    """One vote cast on the gate; ``counts`` False when voided or a Go too old (``note`` says which)."""

    voter: str
    vote: Vote
    cast_at: datetime
    counts: bool
    note: str | None


@dataclass(frozen=True)
class ApprovalWait:
    status: GateStatus
    approvers: tuple[str, ...]
    needed: int
    distinct_teams: bool
    votes: tuple[VoteLine, ...]
    gos: tuple[str, ...]
    no_gos: tuple[str, ...]
    stale: tuple[str, ...]
    missing: tuple[str, ...]
    holds: bool


@dataclass(frozen=True)
class TimeWait:
    status: GateStatus
    phase_at: datetime | None  # the phase date in this region
    opens_at: datetime | None  # first moment inside the rollout window and outside freezes; None: never
    reached: bool


@dataclass(frozen=True)
class WaveWait:
    mode: WaveMode
    waiting_for: tuple[str, ...]  # earlier regions (by rollout order) not yet live in the phase


@dataclass(frozen=True)
class BetaExitWait:
    status: GateStatus
    exits: Phase | None  # the beta this gate lets the region out of
    criteria: tuple[CriterionStatus, ...]
    met: bool


@dataclass(frozen=True)
class Blockers:
    slug: str
    region: str
    phase: Phase
    state: RolloutState
    current_phase: Phase | None
    halted: bool
    halt_reason: str | None
    reached: bool  # the region is in the phase (ready or beyond) or past it: nothing blocks
    items: tuple[BlockingItem, ...]
    approval: ApprovalWait | None
    time: TimeWait | None
    wave: WaveWait
    beta_exit: BetaExitWait | None
    next_step_at: datetime | None
    next_step: str
    reasons: list[str]


def parse_phase(value: str | Phase) -> Phase:
    """The phase named ``value``, or InvalidInput listing the phases there are."""
    try:
        return Phase(value)
    except ValueError:
        known = ", ".join(phase.value for phase in Phase.ordered())
        raise InvalidInput("phase", f"{value!r} is not a phase; use one of {known}") from None


def blockers(*, session: Session, slug: str, region: str, phase: str | Phase, now: datetime) -> Blockers:
    """Everything that keeps ``region`` of launch ``slug`` from entering ``phase`` at ``now``.

    An unknown launch or region is NotFound (naming the launch's regions); an unknown phase, or one
    the region skips, is InvalidInput naming the region's phases."""
    wanted = parse_phase(phase)
    rollout = session.get(RegionRollout, rollout_id_for(session=session, slug=slug, region=region))
    assert rollout is not None
    assert rollout.id is not None
    _require_planned(session, rollout=rollout, region=region, phase=wanted)
    gates = {
        gate.kind: gate
        for gate in session.exec(select(Gate).where(Gate.rollout_id == rollout.id, Gate.phase == wanted)).all()
    }
    reached = _reached(rollout, wanted)
    items = () if reached else _blocking_items(session, rollout_id=rollout.id, phase=wanted, now=now)
    facts = Blockers(
        slug=slug,
        region=region,
        phase=wanted,
        state=rollout.state,
        current_phase=rollout.phase,
        halted=rollout.state in (RolloutState.HALTED, RolloutState.ROLLED_BACK),
        halt_reason=rollout.halt_reason,
        reached=reached,
        items=items,
        approval=_approval(session, gates.get(GateKind.APPROVAL), now=now),
        time=_time(session, rollout, gates.get(GateKind.TIME), phase=wanted, now=now),
        wave=_wave(session, rollout, phase=wanted, reached=reached),
        beta_exit=_beta_exit(session, rollout, gates.get(GateKind.BETA_EXIT), now=now),
        next_step_at=None,
        next_step="",
        reasons=[],
    )
    return explained(facts, now=now)


@dataclass(frozen=True)
class GateWaits:
    """What a phase's gates wait for besides the checklist and the date: the approval, the beta
    exit criteria and the wave, judged as ``blockers`` judges them."""

    approval: ApprovalWait | None
    beta_exit: BetaExitWait | None
    wave: WaveWait


def gate_waits(*, session: Session, rollout_id: int, phase: Phase, now: datetime) -> GateWaits:
    """The approval, beta exit and wave parts of ``blockers`` for one region and phase, without
    reading its items (the readiness forecast counts those itself)."""
    rollout = session.get(RegionRollout, rollout_id)
    assert rollout is not None
    gates = {
        gate.kind: gate
        for gate in session.exec(select(Gate).where(Gate.rollout_id == rollout_id, Gate.phase == phase)).all()
    }
    return GateWaits(
        approval=_approval(session, gates.get(GateKind.APPROVAL), now=now),
        beta_exit=_beta_exit(session, rollout, gates.get(GateKind.BETA_EXIT), now=now),
        wave=_wave(session, rollout, phase=phase, reached=_reached(rollout, phase)),
    )


def _require_planned(session: Session, *, rollout: RegionRollout, region: str, phase: Phase) -> None:
    planned = set(session.exec(select(Gate.phase).where(Gate.rollout_id == rollout.id)).all())
    if phase not in planned:
        phases = ", ".join(p.value for p in Phase.ordered() if p in planned)
        raise InvalidInput("phase", f"{region} skips {phase.value}; its phases: {phases}")


def _reached(rollout: RegionRollout, phase: Phase) -> bool:
    if rollout.phase is None:
        return False
    order = Phase.ordered()
    here, wanted = order.index(rollout.phase), order.index(phase)
    if here != wanted:
        return here > wanted
    return rollout.state in _MOVING or rollout.halted_from in _MOVING


def _blocking_items(session: Session, *, rollout_id: int, phase: Phase, now: datetime) -> tuple[BlockingItem, ...]:
    """The phase's blocking items not done, waived or n/a, by due date (undated last)."""
    rows = session.execute(
        select_columns(ChecklistItem, col(Team.name), col(Member.name), col(Member.email))
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .outerjoin(Member, col(Member.id) == col(ChecklistItem.assignee_id))
        .where(
            col(ChecklistItem.rollout_id) == rollout_id,
            col(ChecklistItem.phase) == phase,
            col(ChecklistItem.blocking).is_(True),
            col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
        )
    ).all()
    statuses = {
        key: ItemStatus(status)
        for key, status in session.exec(
            select(ChecklistItem.key, ChecklistItem.status).where(ChecklistItem.rollout_id == rollout_id)
        )
    }
    found = []
    for item, team, assignee_name, assignee_email in rows:
        assert item.id is not None
        due = as_utc(item.due_at) if item.due_at is not None else None
        overdue = due is not None and due < now
        found.append(
            BlockingItem(
                id=item.id,
                key=item.key,
                title=item.title,
                status=item.status,
                owner_team=team,
                assignee_name=assignee_name,
                assignee_email=assignee_email,
                due_at=due,
                overdue=overdue,
                days_late=int((now - due) / _DAY) if due is not None and overdue else 0,
                blocked_reason=item.blocked_reason,
                depends_on=tuple(_dependency(key, statuses.get(key)) for key in item.depends_on),
            )
        )
    found.sort(key=lambda item: (item.due_at is None, item.due_at or now, item.id))
    return tuple(found)


def _dependency(key: str, status: ItemStatus | None) -> Dependency:
    return Dependency(key=key, status=status, done=status is not None and status in SATISFYING_STATUSES)


def _approval(session: Session, gate: Gate | None, *, now: datetime) -> ApprovalWait | None:
    if gate is None:
        return None
    counted = tally(session, gate, now=now)
    decisions = session.exec(select(Decision).where(Decision.gate_id == gate.id).order_by(col(Decision.id))).all()
    return ApprovalWait(
        status=gate.status,
        approvers=tuple(gate.approvers),
        needed=counted.needed,
        distinct_teams=gate.distinct_teams,
        votes=tuple(_vote_line(decision, now=now, approvers=gate.approvers) for decision in decisions),
        gos=tuple(counted.gos),
        no_gos=tuple(counted.no_gos),
        stale=tuple(counted.stale),
        missing=tuple(counted.missing),
        holds=gate.status == GateStatus.PASSED or (bool(gate.approvers) and counted.holds),
    )


def _vote_line(decision: Decision, *, now: datetime, approvers: list[str]) -> VoteLine:
    cast_at = as_utc(decision.cast_at)
    max_age = go_max_age()
    note = None
    if decision.voided_at is not None:
        note = f"void: {decision.void_reason or 'what it approved changed'}; vote again"
    elif decision.voter not in approvers:
        note = "no longer an approver of this gate"
    elif decision.vote != Vote.NO_GO and max_age is not None and cast_at < now - max_age:
        note = f"older than {max_age.days} days; confirm by voting again"
    return VoteLine(voter=decision.voter, vote=decision.vote, cast_at=cast_at, counts=note is None, note=note)


def _time(
    session: Session, rollout: RegionRollout, gate: Gate | None, *, phase: Phase, now: datetime
) -> TimeWait | None:
    if gate is None:
        return None
    assert rollout.id is not None
    phase_at = phase_start(session, rollout_id=rollout.id, phase=phase)
    opens_at = time_gate_opening(session, rollout=rollout, phase=phase, now=now)
    reached = gate.status == GateStatus.PASSED or (opens_at is not None and opens_at <= now)
    return TimeWait(status=gate.status, phase_at=phase_at, opens_at=opens_at, reached=reached)


def _wave(session: Session, rollout: RegionRollout, *, phase: Phase, reached: bool) -> WaveWait:
    mode = session.exec(select(Launch.wave_mode).where(Launch.id == rollout.launch_id)).one()
    waiting = () if reached else tuple(wave_blockers(session, rollout=rollout, phase=phase))
    return WaveWait(mode=WaveMode(mode), waiting_for=waiting)


def _beta_exit(session: Session, rollout: RegionRollout, gate: Gate | None, *, now: datetime) -> BetaExitWait | None:
    if gate is None:
        return None
    assert rollout.id is not None
    criteria = tuple(evaluate_criteria(session, rollout=rollout, gate_phase=gate.phase, now=now))
    met = gate.status == GateStatus.PASSED or all(criterion.met for criterion in criteria)
    exits = exited_phase(session, rollout_id=rollout.id, phase=gate.phase)
    return BetaExitWait(status=gate.status, exits=exits, criteria=criteria, met=met)
