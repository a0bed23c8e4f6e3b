"""Setting a running launch's beta exit criteria (creation sets them through ``LaunchSpec``).

Setting criteria for a beta phase adds the beta-exit gate on the next planned phase in each
region that does not have it yet: pending where the region has not reached that phase, open
where it is waiting at that phase's gates now. A region already past that gate keeps going (a
gate is never put in front of a region that has passed it). Clearing a phase's criteria leaves
its gates with nothing to wait for, so they pass at once. Either way the regions waiting at a
beta-exit gate are judged again in the same transaction.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import BETA_PHASES, ExitMetric, GateKind, GateStatus, Phase, RolloutState
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.ledger import record
from orchestrator.core.models import BetaExitCriterion, Gate, Launch, RegionRollout
from orchestrator.core.unit import lock, transaction
from orchestrator.gates.service import evaluate_gates
from orchestrator.rollouts.phases import planned_phases


def _new_gate_status(rollout: RegionRollout, *, planned: list[Phase], following: Phase) -> GateStatus | None:
    """How a beta-exit gate added now starts in this region, or None when the region has passed it."""
    if rollout.phase is None or planned.index(rollout.phase) < planned.index(following):
        return GateStatus.PENDING
    waiting = rollout.state == RolloutState.GATED or (
        rollout.state == RolloutState.HALTED and rollout.halted_from == RolloutState.GATED
    )
    if rollout.phase == following and waiting:
        return GateStatus.OPEN
    return None


def set_exit_criteria(
    *, session: Session, launch_id: int, phase: Phase, thresholds: Mapping[ExitMetric, int], actor: Actor
) -> list[BetaExitCriterion]:
    """Replace the exit criteria of one beta phase of a launch (an empty mapping clears them)."""
    if phase not in BETA_PHASES:
        raise InvalidInput(
            "phase", f"{phase.value} is not a beta phase; exit criteria belong to private_beta or public_beta"
        )
    for metric, threshold in thresholds.items():
        if threshold < 0:
            raise InvalidInput(metric.value, f"threshold must be 0 or more, got {threshold}")
    now = utcnow()
    with transaction(session):
        if session.get(Launch, launch_id) is None:
            raise NotFound("launch", launch_id)
        rollouts = _lock_rollouts(session, launch_id=launch_id)
        existing = {
            row.metric: row
            for row in session.exec(
                select(BetaExitCriterion).where(
                    BetaExitCriterion.launch_id == launch_id, BetaExitCriterion.phase == phase
                )
            )
        }
        before = {metric.value: row.threshold for metric, row in existing.items()}
        after = {metric.value: threshold for metric, threshold in thresholds.items()}
        if before != after:
            _replace_criteria(session, launch_id=launch_id, phase=phase, existing=existing, thresholds=thresholds)
            if thresholds:
                _add_missing_gates(session, rollouts=rollouts, phase=phase, now=now)
            session.flush()
            record(
                session,
                actor=actor,
                entity="launch",
                entity_id=launch_id,
                action="beta.exit_criteria_set",
                launch_id=launch_id,
                before={"phase": phase.value, "criteria": before},
                after={"phase": phase.value, "criteria": after},
            )
            for rollout in rollouts:
                evaluate_gates(session, rollout=rollout, now=now, actor=actor)
        rows = session.exec(
            select(BetaExitCriterion)
            .where(BetaExitCriterion.launch_id == launch_id, BetaExitCriterion.phase == phase)
            .order_by(col(BetaExitCriterion.id))
        ).all()
    return list(rows)


def _lock_rollouts(session: Session, *, launch_id: int) -> list[RegionRollout]:
    """Every region of the launch, locked in id order: concurrent setters take turns."""
    rollout_ids = session.exec(
        select(RegionRollout.id).where(RegionRollout.launch_id == launch_id).order_by(col(RegionRollout.id))
    ).all()
    return [lock(session, RegionRollout, rollout_id, "region rollout") for rollout_id in rollout_ids if rollout_id]


def _replace_criteria(
    session: Session,
    *,
    launch_id: int,
    phase: Phase,
    existing: Mapping[ExitMetric, BetaExitCriterion],
    thresholds: Mapping[ExitMetric, int],
) -> None:
    """Make the phase's criterion rows say ``thresholds``: drop, change and add rows (unflushed)."""
    for metric, row in existing.items():
        if metric not in thresholds:
            session.delete(row)
        else:
            row.threshold = thresholds[metric]
    for metric, threshold in thresholds.items():
        if metric not in existing:
            session.add(BetaExitCriterion(launch_id=launch_id, phase=phase, metric=metric, threshold=threshold))


def _add_missing_gates(session: Session, *, rollouts: list[RegionRollout], phase: Phase, now: datetime) -> None:
    for rollout in rollouts:
        assert rollout.id is not None
        planned = planned_phases(session, rollout_id=rollout.id)
        if phase not in planned or planned[-1] == phase:
            continue
        following = planned[planned.index(phase) + 1]
        present = session.exec(
            select(Gate.id).where(
                Gate.rollout_id == rollout.id, Gate.phase == following, Gate.kind == GateKind.BETA_EXIT
            )
        ).first()
        if present is not None:
            continue
        status = _new_gate_status(rollout, planned=planned, following=following)
        if status is None:
            continue
        session.add(
            Gate(
                rollout_id=rollout.id,
                phase=following,
                kind=GateKind.BETA_EXIT,
                status=status,
                opened_at=now if status == GateStatus.OPEN else None,
            )
        )
