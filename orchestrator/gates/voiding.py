"""Voiding votes when what they approved has changed.

An approver said Go to a phase as it stood: its blocking items done, its waivers, its date, its
list of approvers. When one of those changes before the gate passes, every counting vote of the
gate is void: kept in the ledger (``decision.voided``), no longer counted, and the approvers are
told to vote again (``Topic.DECISION_VOIDED``). A gate that passed stays passed: it passes once,
and a change after it is raised as an alert by its own service.

Called inside the changing service's transaction (never commits on its own).
"""

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import GateKind, GateStatus, Phase
from orchestrator.core.ledger import record
from orchestrator.core.models import Decision, Gate, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic

VOID_REASON_MAX = 500  # Decision.void_reason's column length


def void_votes(
    session: Session, *, rollout_id: int, phase: Phase, reason: str, actor: Actor, now: datetime
) -> list[str]:
    """Void the counting votes on the (not yet passed) approval gate of ``phase`` in the region;
    returns the voters whose votes were voided."""
    gate = session.exec(
        select(Gate).where(
            Gate.rollout_id == rollout_id,
            Gate.phase == phase,
            Gate.kind == GateKind.APPROVAL,
            Gate.status != GateStatus.PASSED,
        )
    ).one_or_none()
    if gate is None:
        return []
    return void_gate_votes(session, gate=gate, reason=reason, actor=actor, now=now)


def void_gate_votes(session: Session, *, gate: Gate, reason: str, actor: Actor, now: datetime) -> list[str]:
    """Void ``gate``'s counting votes (see ``void_votes``)."""
    reason = reason[:VOID_REASON_MAX]
    decisions = session.exec(
        select(Decision).where(Decision.gate_id == gate.id, col(Decision.voided_at).is_(None)).order_by(Decision.voter)
    ).all()
    if not decisions:
        return []
    launch_id = session.exec(select(RegionRollout.launch_id).where(RegionRollout.id == gate.rollout_id)).one()
    session.execute(
        update(Decision)
        .where(col(Decision.id).in_([decision.id for decision in decisions]))
        .values(voided_at=now, void_reason=reason)
    )
    for decision in decisions:
        record(
            session,
            actor=actor,
            entity="decision",
            entity_id=decision.id,
            action="decision.voided",
            launch_id=launch_id,
            before={"vote": decision.vote.value, "voter": decision.voter},
            after={"voided": True, "phase": gate.phase.value},
            reason=reason,
        )
    voters = [decision.voter for decision in decisions]
    enqueue(
        session,
        key=f"gate:{gate.id}:voided:{now.isoformat()}",
        topic=Topic.DECISION_VOIDED,
        launch_id=launch_id,
        payload={
            "gate_id": gate.id,
            "rollout_id": gate.rollout_id,
            "phase": gate.phase.value,
            "voters": voters,
            "reason": f"{reason}. Vote again: {', '.join(voters)}",
            "actor": actor.name,
        },
    )
    return voters
