"""Opening and passing gates. A gate passes once, by compare-and-set, in the transaction that
completed its last condition; when every gate of the phase has passed the region becomes ready.

Called from inside other services' transactions (never commits on its own).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, func, text, update
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, GateStatus, Phase, RolloutState, WaveMode
from orchestrator.core.ledger import record_and_enqueue
from orchestrator.core.models import (
    OPEN_BLOCKING_ITEM,
    ChecklistItem,
    Gate,
    Launch,
    PhaseDate,
    Region,
    RegionRollout,
)
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set
from orchestrator.gates.beta_exit import exit_gate_holds
from orchestrator.gates.quorum import announce_approval_waits, approval_holds, request_time
from orchestrator.gates.windows import next_opening

# Beta exit criteria can change with the clock alone (bug/fix weeks): look again this often.
BETA_EXIT_RECHECK = timedelta(hours=1)


def open_phase_gates(session: Session, *, rollout: RegionRollout, phase: Phase, now: datetime) -> None:
    session.execute(
        update(Gate)
        .where(
            col(Gate.rollout_id) == rollout.id,
            col(Gate.phase) == phase,
            col(Gate.status) == GateStatus.PENDING,
        )
        .values(status=GateStatus.OPEN, opened_at=now, version=Gate.version + 1)
    )


# Built once (every check-off that may complete a gate runs it): compiled and cache-keyed once.
# The open-blocking predicate is OPEN_BLOCKING_ITEM (the partial index's text, the satisfying
# statuses as literals): no IN list to expand per execution. SQLite's plan is unchanged by it (a
# search of the unique index by rollout_id and phase).
_OPEN_BLOCKING_ITEMS = (
    select(func.count())
    .select_from(ChecklistItem)
    .where(
        col(ChecklistItem.rollout_id) == bindparam("rollout_id"),
        col(ChecklistItem.phase) == bindparam("phase"),
        text(OPEN_BLOCKING_ITEM),
    )
)


# The same count without one item, for the change that closes that item: run in the change's own
# statement (`core.recorded_change.After`), which reads the snapshot from before the change on
# PostgreSQL and after it on SQLite; without the item, both count the same rows.
OTHER_OPEN_BLOCKING_ITEMS = (
    select(func.count())
    .select_from(ChecklistItem)
    .where(
        col(ChecklistItem.rollout_id) == bindparam("open_rollout_id"),
        col(ChecklistItem.phase) == bindparam("open_phase"),
        col(ChecklistItem.id) != bindparam("open_item_id"),
        text(OPEN_BLOCKING_ITEM),
    )
)


def open_blocking_items(session: Session, *, rollout_id: int, phase: Phase) -> int:
    """Blocking items of the phase not done, waived or n/a. Core, on the session's connection
    (a count needs no ORM execution context), after flushing what the caller changed, as the
    ORM's autoflush would."""
    session.flush()
    result = session.connection().execute(_OPEN_BLOCKING_ITEMS, {"rollout_id": rollout_id, "phase": phase})
    return int(result.scalar_one())


def phase_start(session: Session, *, rollout_id: int, phase: Phase) -> datetime | None:
    value = session.exec(
        select(PhaseDate.current_at).where(PhaseDate.rollout_id == rollout_id, PhaseDate.phase == phase)
    ).one_or_none()
    return as_utc(value) if value is not None else None


def time_gate_opening(session: Session, *, rollout: RegionRollout, phase: Phase, now: datetime) -> datetime | None:
    """When the time gate holds: not before the phase date, inside the region's rollout window,
    outside its freezes. Returns that moment (<= now when it holds already), or None if never."""
    assert rollout.id is not None
    start = phase_start(session, rollout_id=rollout.id, phase=phase)
    region = session.get(Region, rollout.region_id)
    if start is None or region is None:
        return None
    return next_opening(max(now, start), timezone=region.timezone, window=region.rollout_window, freezes=region.freezes)


def gate_holds(session: Session, *, rollout: RegionRollout, gate: Gate, now: datetime) -> bool:
    assert rollout.id is not None
    if gate.kind == GateKind.CHECKLIST:
        return open_blocking_items(session, rollout_id=rollout.id, phase=gate.phase) == 0
    if gate.kind == GateKind.APPROVAL:
        return approval_holds(session, gate, now=now)
    if gate.kind == GateKind.TIME:
        opening = time_gate_opening(session, rollout=rollout, phase=gate.phase, now=now)
        return opening is not None and opening <= now
    return exit_gate_holds(session, rollout=rollout, gate=gate, now=now)


def wave_blockers(session: Session, *, rollout: RegionRollout, phase: Phase) -> list[str]:
    """In a sequential launch, the earlier regions (by rollout order) not yet live in ``phase``."""
    launch = session.get(Launch, rollout.launch_id)
    if launch is None or launch.wave_mode != WaveMode.SEQUENTIAL:
        return []
    order = Phase.ordered()
    own_order = session.exec(select(Region.rollout_order).where(Region.id == rollout.region_id)).one()
    blockers = []
    for other, region in session.exec(
        select(RegionRollout, Region)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == rollout.launch_id, Region.rollout_order < own_order)
        .execution_options(populate_existing=True)
    ):
        plans_phase = session.exec(
            select(PhaseDate.id).where(PhaseDate.rollout_id == other.id, PhaseDate.phase == phase)
        ).first()
        if plans_phase is None:
            continue
        reached = other.phase is not None and (
            order.index(other.phase) > order.index(phase) or (other.phase == phase and other.state == RolloutState.LIVE)
        )
        if not reached:
            blockers.append(region.code)
    return blockers


def evaluate_gates(
    session: Session,
    *,
    rollout: RegionRollout,
    now: datetime,
    actor: Actor,
) -> bool:
    """Pass every open gate of the rollout's phase whose condition holds; make the region ready
    when all have passed. Returns True when this call made the region ready."""
    if rollout.state != RolloutState.GATED or rollout.phase is None:
        return False
    assert rollout.id is not None
    _announce_reevaluation_due(session, rollout=rollout, now=now)
    # Fresh rows: a long-lived session may hold gates another session has since passed.
    gates = session.exec(
        select(Gate)
        .where(Gate.rollout_id == rollout.id, Gate.phase == rollout.phase)
        .execution_options(populate_existing=True)
    ).all()
    # The approval gate is judged last, and only once every other gate of the phase has passed:
    # approvers approve the phase as it stands when it is otherwise ready (a vote cast earlier is
    # voided if that changes, and a Go too old by then must be confirmed).
    for gate in sorted(gates, key=lambda gate: gate.kind == GateKind.APPROVAL):
        if gate.status != GateStatus.OPEN:
            continue
        if gate.kind == GateKind.APPROVAL and any(
            other.status != GateStatus.PASSED for other in gates if other is not gate
        ):
            continue
        if gate_holds(session, rollout=rollout, gate=gate, now=now):
            _pass_gate(session, rollout=rollout, gate=gate, now=now, actor=actor)
    phase_at = phase_start(session, rollout_id=rollout.id, phase=rollout.phase)
    announce_approval_waits(session, rollout=rollout, gates=list(gates), phase_at=phase_at, now=now)
    if any(gate.status != GateStatus.PASSED for gate in gates) or wave_blockers(
        session, rollout=rollout, phase=rollout.phase
    ):
        _schedule_time_check(session, rollout=rollout, gates=gates, now=now)
        return False
    _make_ready(session, rollout=rollout, now=now, actor=actor)
    return True


def _pass_gate(session: Session, *, rollout: RegionRollout, gate: Gate, now: datetime, actor: Actor) -> None:
    """Pass an open gate by compare-and-set; only the writer that wins records and announces it."""
    passed = session.execute(
        update(Gate)
        .where(col(Gate.id) == gate.id, col(Gate.status) == GateStatus.OPEN)
        .values(status=GateStatus.PASSED, passed_at=now, version=Gate.version + 1)
    )
    if cast(CursorResult[Any], passed).rowcount != 1:
        return  # someone else passed it first
    session.refresh(gate)
    record_and_enqueue(
        session,
        actor=actor,
        entity="gate",
        entity_id=gate.id,
        action="gate.passed",
        launch_id=rollout.launch_id,
        before={"status": GateStatus.OPEN.value},
        after={"status": GateStatus.PASSED.value, "kind": gate.kind.value, "phase": gate.phase.value},
        key=f"gate:{gate.id}:passed",
        topic=Topic.GATE_PASSED,
        payload={
            "gate_id": gate.id,
            "rollout_id": rollout.id,
            "phase": gate.phase.value,
            "kind": gate.kind.value,
        },
    )


def _make_ready(session: Session, *, rollout: RegionRollout, now: datetime, actor: Actor) -> None:
    """Every gate of the phase passed and no earlier region holds the wave: the region is ready."""
    assert rollout.phase is not None
    before = {"state": rollout.state.value, "phase": rollout.phase.value}
    compare_and_set(session, rollout, "region rollout", state=RolloutState.READY, next_check_at=None, updated_at=now)
    record_and_enqueue(
        session,
        actor=actor,
        entity="rollout",
        entity_id=rollout.id,
        action=Topic.ROLLOUT_READY,
        launch_id=rollout.launch_id,
        before=before,
        after={"state": RolloutState.READY.value, "phase": rollout.phase.value},
        key=f"rollout:{rollout.id}:{rollout.phase.value}:ready:v{rollout.version}",
        topic=Topic.ROLLOUT_READY,
        payload={"rollout_id": rollout.id, "phase": rollout.phase.value},
    )


def _schedule_time_check(session: Session, *, rollout: RegionRollout, gates: Sequence[Gate], now: datetime) -> None:
    """Remember when the clock alone could change something for this region (its time gate
    opening, a No-Go's re-evaluation date), so workers look again then and not before.
    Scheduling data, not domain state: no version bump, no audit."""
    assert rollout.id is not None
    candidates = []
    for gate in gates:
        if gate.kind == GateKind.TIME and gate.status == GateStatus.OPEN:
            candidates.append(time_gate_opening(session, rollout=rollout, phase=gate.phase, now=now))
        if gate.kind == GateKind.BETA_EXIT and gate.status == GateStatus.OPEN:
            candidates.append(now + BETA_EXIT_RECHECK)
        if gate.kind == GateKind.APPROVAL and gate.status == GateStatus.OPEN:
            asking_from = request_time(phase_start(session, rollout_id=rollout.id, phase=gate.phase))
            candidates.append(asking_from if asking_from is not None and asking_from > now else None)
    if rollout.reevaluate_at is not None and as_utc(rollout.reevaluate_at) > now:
        candidates.append(as_utc(rollout.reevaluate_at))
    wake_at = min((moment for moment in candidates if moment is not None), default=None)
    if rollout.next_check_at != wake_at:
        rollout.next_check_at = wake_at
        session.flush()


def _announce_reevaluation_due(session: Session, *, rollout: RegionRollout, now: datetime) -> None:
    """A No-Go set a date to look at the region again: when it comes, say so (once per date)."""
    if rollout.reevaluate_at is None or as_utc(rollout.reevaluate_at) > now:
        return
    due = as_utc(rollout.reevaluate_at)
    enqueue(
        session,
        key=f"rollout:{rollout.id}:reevaluate:{due.isoformat()}",
        topic=Topic.DECISION_REEVALUATION_DUE,
        launch_id=rollout.launch_id,
        payload={
            "rollout_id": rollout.id,
            "phase": rollout.phase.value if rollout.phase else None,
            "due": due.isoformat(),
        },
    )
