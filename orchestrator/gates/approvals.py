"""Go / Conditional Go / No-Go votes on approval gates.

A vote is recorded per voter (a changed vote replaces the old one, both kept in the audit ledger).
Conditional Go must name the conditions and who accepts the risk; No-Go must set a re-evaluation
date, which the region carries so nobody forgets to look again.
"""

from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Ballot:
    """One voter's vote with what it says, checked (``_ballot``) before anything is read."""

    voter: str
    vote: Vote
    comment: str | None
    conditions: str | None
    risk_accepted_by: str | None
    reevaluate_at: datetime | None


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
    ballot = _ballot(
        voter=voter,
        vote=vote,
        comment=comment,
        conditions=conditions,
        risk_accepted_by=risk_accepted_by,
        reevaluate_at=reevaluate_at,
    )
    now = utcnow()
    with transaction(session):
        rollout, gate = _lock_approval_gate(session, gate_id=gate_id, voter=ballot.voter)
        decision = session.exec(
            select(Decision).where(Decision.gate_id == gate_id, Decision.voter == ballot.voter)
        ).one_or_none()
        if decision is not None and _same_vote(decision, ballot):
            return decision  # the same vote again (a retry, a double click)
        before = {"vote": decision.vote.value} if decision is not None else None
        if decision is None:
            decision = Decision(gate_id=gate_id, voter=ballot.voter, vote=ballot.vote)
            session.add(decision)
        _write_vote(session, decision=decision, ballot=ballot, now=now)
        _announce_vote(session, decision=decision, gate=gate, rollout=rollout, before=before, actor=actor, now=now)
        if ballot.vote == Vote.NO_GO:
            _hold_for_reevaluation(session, rollout=rollout, ballot=ballot, now=now)
        else:
            _release_and_evaluate(session, rollout=rollout, gate_id=gate_id, actor=actor, now=now)
    return decision


def _ballot(
    *,
    voter: str,
    vote: Vote,
    comment: str | None,
    conditions: str | None,
    risk_accepted_by: str | None,
    reevaluate_at: datetime | None,
) -> _Ballot:
    """Refuse a vote that lacks what its kind needs: a Conditional Go its conditions and who
    accepts the risk, a No-Go an aware re-evaluation date."""
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
    return _Ballot(voter, vote, comment, conditions, risk_accepted_by, reevaluate_at)


def _lock_approval_gate(session: Session, *, gate_id: int, voter: str) -> tuple[RegionRollout, Gate]:
    """Lock the gate's region, then the gate (the order every region change takes), and refuse a
    gate that takes no votes or a voter it does not name."""
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
        raise InvalidInput("voter", f"{voter} is not an approver of this gate (approvers: {', '.join(gate.approvers)})")
    return rollout, gate


def _same_vote(decision: Decision, ballot: _Ballot) -> bool:
    stored_reevaluate = as_utc(decision.reevaluate_at) if decision.reevaluate_at else None
    asked_reevaluate = as_utc(ballot.reevaluate_at) if ballot.reevaluate_at else None
    same = (decision.vote, decision.comment, decision.conditions, decision.risk_accepted_by) == (
        ballot.vote,
        ballot.comment,
        ballot.conditions,
        ballot.risk_accepted_by,
    )
    return same and stored_reevaluate == asked_reevaluate


def _write_vote(session: Session, *, decision: Decision, ballot: _Ballot, now: datetime) -> None:
    decision.vote = ballot.vote
    decision.comment = ballot.comment
    decision.conditions = ballot.conditions
    decision.risk_accepted_by = ballot.risk_accepted_by
    decision.reevaluate_at = ballot.reevaluate_at
    decision.cast_at = now
    session.flush()


def _announce_vote(
    session: Session,
    *,
    decision: Decision,
    gate: Gate,
    rollout: RegionRollout,
    before: dict[str, str] | None,
    actor: Actor,
    now: datetime,
) -> None:
    """The vote's audit event and its outbox row (keyed by the moment, so a changed vote is told too)."""
    after = {"vote": decision.vote.value, "voter": decision.voter, "phase": gate.phase.value}
    record(
        session,
        actor=actor,
        entity="decision",
        entity_id=decision.id,
        action="decision.cast",
        launch_id=rollout.launch_id,
        before=before,
        after=after,
        reason=decision.comment or decision.conditions,
    )
    enqueue(
        session,
        key=f"decision:{decision.id}:{decision.vote.value}:{now.isoformat()}",
        topic=Topic(f"decision.{decision.vote.value}"),
        launch_id=rollout.launch_id,
        payload={"gate_id": gate.id, "rollout_id": rollout.id, **after, **_told(decision)},
    )


def _told(decision: Decision) -> dict[str, str]:
    """What the vote's message shows besides the vote: the voter's comment (or a Conditional Go's
    conditions) as the reason, and a No-Go's re-evaluation date, so Slack never says "none given"
    for a vote that gave one."""
    told: dict[str, str] = {}
    reason = decision.comment or decision.conditions
    if reason:
        told["reason"] = reason
    if decision.reevaluate_at is not None:
        told["reevaluate_at"] = as_utc(decision.reevaluate_at).isoformat()
    return told


def _hold_for_reevaluation(session: Session, *, rollout: RegionRollout, ballot: _Ballot, now: datetime) -> None:
    """A No-Go: the region carries its re-evaluation date, and workers look at it again then
    (next_check_at, unless they are due to look earlier)."""
    assert ballot.reevaluate_at is not None
    wake = as_utc(ballot.reevaluate_at)
    if rollout.next_check_at is not None and as_utc(rollout.next_check_at) < wake:
        wake = as_utc(rollout.next_check_at)
    compare_and_set(
        session, rollout, "region rollout", reevaluate_at=ballot.reevaluate_at, next_check_at=wake, updated_at=now
    )


def _release_and_evaluate(
    session: Session, *, rollout: RegionRollout, gate_id: int, actor: Actor, now: datetime
) -> None:
    """A Go or Conditional Go: when no No-Go is left on the gate nothing waits for a re-evaluation
    any more; the vote may be the gate's last condition, so the gates are judged again."""
    no_go_left = session.exec(
        select(Decision.id).where(Decision.gate_id == gate_id, Decision.vote == Vote.NO_GO)
    ).first()
    if no_go_left is None and rollout.reevaluate_at is not None:
        compare_and_set(session, rollout, "region rollout", reevaluate_at=None, updated_at=now)
    evaluate_gates(session, rollout=rollout, now=now, actor=actor)
