"""Who approves a phase: changing a launch's approvers and quorum after it was created.

Product ops change them (``policy.LAUNCH_OPERATORS``) with a reason, for one phase in every region
of the launch or in one. Only gates still waiting for votes change (a passed gate passes once);
each change is audited (``gate.approvers_changed``) and voids the votes already cast on the gate,
since they were cast on a different question (``gates.voiding``).
"""

from typing import Any

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import GateKind, GateStatus, Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.homes import queue_home_refresh
from orchestrator.core.ledger import record
from orchestrator.core.models import Gate, Region, RegionRollout
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.core.text import required
from orchestrator.core.unit import compare_and_set, lock, transaction
from orchestrator.gates.voiding import VOID_REASON_MAX, void_gate_votes

APPROVERS_MAX = 50


def clean_approvers(approvers: list[str], *, quorum: int | None) -> list[str]:
    """Trimmed, each once, in the order given; a quorum no larger than the list."""
    cleaned = list(dict.fromkeys(email.strip() for email in approvers if email.strip()))
    if not cleaned:
        raise InvalidInput("approvers", "name at least one approver (a member's email)")
    if len(cleaned) > APPROVERS_MAX:
        raise InvalidInput("approvers", f"at most {APPROVERS_MAX} approvers")
    if quorum is not None and not 1 <= quorum <= len(cleaned):
        raise InvalidInput("quorum", f"must be between 1 and the number of approvers ({len(cleaned)})")
    return cleaned


def change_approvers(
    *,
    session: Session,
    launch_id: int,
    phase: Phase,
    approvers: list[str],
    actor: Actor,
    reason: str,
    region: str | None = None,
    quorum: int | None = None,
    distinct_teams: bool = False,
) -> list[Gate]:
    """Set who approves ``phase`` (in ``region``, or in every region of the launch); returns the
    gates changed (none when they already said this)."""
    require_role(actor, LAUNCH_OPERATORS, doing="change approvers")
    reason = required(reason, field="reason", hint="say why the approvers change", max_length=VOID_REASON_MAX)
    cleaned = clean_approvers(approvers, quorum=quorum)
    now = utcnow()
    changed = []
    with transaction(session):
        for rollout_id, gate_id in _waiting_gates(session, launch_id=launch_id, phase=phase, region=region):
            lock(session, RegionRollout, rollout_id, "region rollout")
            gate = lock(session, Gate, gate_id, "gate")
            wanted = {"approvers": cleaned, "quorum": quorum, "distinct_teams": distinct_teams}
            before = {"approvers": gate.approvers, "quorum": gate.quorum, "distinct_teams": gate.distinct_teams}
            if before == wanted:
                continue
            old_approvers = list(gate.approvers)
            compare_and_set(session, gate, "gate", **wanted)
            _record_change(session, gate=gate, launch_id=launch_id, before=before, actor=actor, reason=reason)
            void_gate_votes(session, gate=gate, reason=f"the approvers changed: {reason}", actor=actor, now=now)
            queue_home_refresh(  # who must vote changed: both the old and the new approvers' Homes
                session,
                key=f"gate:{gate.id}:approvers_changed:{now.isoformat()}",
                launch_id=launch_id,
                emails=[*old_approvers, *cleaned],
            )
            changed.append(gate)
    return changed


def _waiting_gates(session: Session, *, launch_id: int, phase: Phase, region: str | None) -> list[tuple[int, int]]:
    """(rollout id, gate id) of the phase's approval gates not yet passed, in rollout order (the
    order locks are taken in)."""
    statement = (
        select(RegionRollout.id, Gate.id)
        .join(Gate, col(Gate.rollout_id) == col(RegionRollout.id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(
            RegionRollout.launch_id == launch_id,
            Gate.phase == phase,
            Gate.kind == GateKind.APPROVAL,
            Gate.status != GateStatus.PASSED,
        )
        .order_by(col(RegionRollout.id))
    )
    if region is not None:
        statement = statement.where(Region.code == region)
    found = [
        (rollout_id, gate_id)
        for rollout_id, gate_id in session.exec(statement)
        if rollout_id is not None and gate_id is not None
    ]
    if not found:
        where = f"region {region}" if region else "any region of this launch"
        raise InvalidInput(
            "phase",
            f"no {phase.value} approval gate waits for votes in {where} (it passed already, or the phase "
            "has no approval gate there)",
        )
    return found


def _record_change(
    session: Session, *, gate: Gate, launch_id: int, before: dict[str, Any], actor: Actor, reason: str
) -> None:
    record(
        session,
        actor=actor,
        entity="gate",
        entity_id=gate.id,
        action="gate.approvers_changed",
        launch_id=launch_id,
        before=before,
        after={"approvers": gate.approvers, "quorum": gate.quorum, "distinct_teams": gate.distinct_teams},
        reason=reason,
    )
