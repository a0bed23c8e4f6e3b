"""Beta data (enrollments, feedback) feeds exit criteria: a change to it re-judges the gate the
region waits at, in the same transaction, so the change that met the last criterion passes it."""

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import GateKind, GateStatus, RolloutState
from orchestrator.core.models import Gate, RegionRollout
from orchestrator.core.unit import lock
from orchestrator.gates.service import evaluate_gates


def reevaluate_exit_gates(session: Session, *, rollout_id: int, actor: Actor) -> None:
    """Inside the caller's transaction: if the region waits at an open beta-exit gate, lock it and
    evaluate its gates, so the change that met the last criterion passes the gate."""
    waiting = session.exec(
        select(Gate.id)
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .where(
            Gate.rollout_id == rollout_id,
            Gate.kind == GateKind.BETA_EXIT,
            Gate.status == GateStatus.OPEN,
            col(Gate.phase) == col(RegionRollout.phase),
            RegionRollout.state == RolloutState.GATED,
        )
    ).first()
    if waiting is None:
        return
    rollout = lock(session, RegionRollout, rollout_id, "region rollout")
    evaluate_gates(session, rollout=rollout, now=utcnow(), actor=actor)
