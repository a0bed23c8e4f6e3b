"""Go / Conditional Go / No-Go votes on approval gates.

A vote is recorded per voter (a changed vote replaces the old one, both kept in the audit ledger).
Conditional Go must name the conditions and who accepts the risk; No-Go must set a re-evaluation
date, which the region carries so nobody forgets to look again.
"""

from datetime import datetime

from sqlmodel import Session, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import GateKind, GateStatus, Vote
from orchestrator.core.errors import IllegalTransition, InvalidInput, NotFound
from orchestrator.core.ledger import record
from orchestrator.core.models import Decision, Gate, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, lock, transaction
from orchestrator.gates.service import evaluate_gates


def cast_vote(
    *,
    session: Session,
    gate_id: int,
    voter: str,
    vote: Vote,
    actor: Actor,
    comment: str | None = None,
    conditions: str | None = None,
    risk_accepted_by: str | None = None,
    reevaluate_at: datetime | None = None,
) -> Decision:
    vote = Vote(vote)
    voter = voter.strip()
    if not voter:
        raise InvalidInput("voter", "name who votes")
    if vote == Vote.CONDITIONAL_GO and not ((conditions or "").strip() and (risk_accepted_by or "").strip()):
        raise InvalidInput(
            "conditions", "a Conditional Go needs its conditions and who accepts the risk (risk_accepted_by)"
        )
    if vote == Vote.NO_GO:
        if reevaluate_at is None:
            raise InvalidInput("reevaluate_at", "a No-Go needs the date the region will be looked at again")
        if reevaluate_at.tzinfo is None:
            raise InvalidInput("reevaluate_at", "needs a timezone offset")
    now = utcnow()
    with transaction(session):
        rollout_id = session.exec(select(Gate.rollout_id).where(Gate.id == gate_id)).first()
        if rollout_id is None:
            raise NotFound("gate", gate_id)
        rollout = lock(session, RegionRollout, rollout_id, "region rollout")
        gate = lock(session, Gate, gate_id, "gate")
        if gate.kind != GateKind.APPROVAL:
            raise InvalidInput("gate_id", f"gate {gate_id} is a {gate.kind.value} gate; votes go to approval gates")
        if gate.status == GateStatus.PASSED:
            raise IllegalTransition("gate", "passed", "vote on", [])
        if gate.approvers and voter not in gate.approvers:
            raise InvalidInput(
                "voter", f"{voter} is not an approver of this gate (approvers: {', '.join(gate.approvers)})"
            )
        decision = session.exec(
            select(Decision).where(Decision.gate_id == gate_id, Decision.voter == voter)
        ).one_or_none()
        before = None
        if decision is None:
            decision = Decision(gate_id=gate_id, voter=voter, vote=vote)
            session.add(decision)
        else:
            stored_reevaluate = as_utc(decision.reevaluate_at) if decision.reevaluate_at else None
            asked_reevaluate = as_utc(reevaluate_at) if reevaluate_at else None
            same = (decision.vote, decision.comment, decision.conditions, decision.risk_accepted_by) == (
                vote,
                comment,
                conditions,
                risk_accepted_by,
            )
            if same and stored_reevaluate == asked_reevaluate:
                return decision  # the same vote again (a retry, a double click)
            before = {"vote": decision.vote.value}
        decision.vote = vote
        decision.comment = comment
        decision.conditions = conditions
        decision.risk_accepted_by = risk_accepted_by
        decision.reevaluate_at = reevaluate_at
        decision.cast_at = now
        session.flush()
        after = {"vote": vote.value, "voter": voter, "phase": gate.phase.value}
        record(
            session,
            actor=actor,
            entity="decision",
            entity_id=decision.id,
            action="decision.cast",
            launch_id=rollout.launch_id,
            before=before,
            after=after,
            reason=comment or conditions,
        )
        enqueue(
            session,
            key=f"decision:{decision.id}:{vote.value}:{now.isoformat()}",
            topic=Topic(f"decision.{vote.value}"),
            launch_id=rollout.launch_id,
            payload={"gate_id": gate_id, "rollout_id": rollout_id, **after},
        )
        if vote == Vote.NO_GO:
            assert reevaluate_at is not None
            wake = as_utc(reevaluate_at)
            if rollout.next_check_at is not None and as_utc(rollout.next_check_at) < wake:
                wake = as_utc(rollout.next_check_at)
            # next_check_at: workers look at the region again on the re-evaluation date.
            compare_and_set(
                session, rollout, "region rollout", reevaluate_at=reevaluate_at, next_check_at=wake, updated_at=now
            )
        else:
            no_go_left = session.exec(
                select(Decision.id).where(Decision.gate_id == gate_id, Decision.vote == Vote.NO_GO)
            ).first()
            if no_go_left is None and rollout.reevaluate_at is not None:
                # The last No-Go was withdrawn: nothing is waiting for a re-evaluation any more.
                compare_and_set(session, rollout, "region rollout", reevaluate_at=None, updated_at=now)
            evaluate_gates(session, rollout=rollout, now=now, actor=actor)
    return decision
