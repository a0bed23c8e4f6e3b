"""Go / Conditional Go / No-Go votes on approval gates.

A vote counts for the authenticated person who casts it (``policy.voter_for``); product ops may
record a vote given elsewhere on behalf of its approver, with a reason, and both names are kept.
Only the gate's named approvers count, never the launch's owner (``policy.authorize_approver``).
A vote is recorded per voter (a changed vote replaces the old one, both kept in the audit ledger).
Conditional Go must name the conditions and who accepts the risk; No-Go must set a re-evaluation
date, which the region carries so nobody forgets to look again; a date given as a day is the
start of that day in the region's timezone (``clock.region_moment``), as in every door.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc, region_moment, utcnow
from orchestrator.core.enums import GateKind, GateStatus, Vote
from orchestrator.core.errors import IllegalTransition, InvalidInput, NotFound
from orchestrator.core.ledger import record
from orchestrator.core.models import Decision, Gate, Launch, Member, RegionRollout
from orchestrator.core.outbox import enqueue
from orchestrator.core.policy import authorize_approver, voter_for
from orchestrator.core.settings import get_settings
from orchestrator.core.topics import Topic
from orchestrator.core.unit import compare_and_set, lock, transaction
from orchestrator.directory.queries import rollout_timezone
from orchestrator.gates.quorum import go_max_age
from orchestrator.gates.service import evaluate_gates


@dataclass(frozen=True)
class _Ballot:
    """One vote with what it says, checked (``_ballot``) before anything is read."""

    vote: Vote
    comment: str | None
    conditions: str | None
    risk_accepted_by: str | None
    reevaluate_at: datetime | None


def cast_vote(
    *,
    session: Session,
    gate_id: int,
    vote: Vote,
    actor: Actor,
    on_behalf_of: str | None = None,
    on_behalf_reason: str | None = None,
    comment: str | None = None,
    conditions: str | None = None,
    risk_accepted_by: str | None = None,
    reevaluate_at: date | datetime | None = None,
) -> Decision:
    """Cast (or change) the actor's vote, or record one on behalf of an approver."""
    said = {"comment": comment, "conditions": conditions, "risk_accepted_by": risk_accepted_by}
    _ballot(vote=vote, **said, reevaluate_at=reevaluate_at, timezone="UTC")  # refused before anything is read
    now = utcnow()
    with transaction(session):
        rollout, gate = _lock_approval_gate(session, gate_id=gate_id)
        timezone = rollout_timezone(session=session, rollout_id=gate.rollout_id)
        ballot = _ballot(vote=vote, **said, reevaluate_at=reevaluate_at, timezone=timezone)
        voter = _authorized_voter(
            session, actor=actor, gate=gate, rollout=rollout, on_behalf_of=on_behalf_of, reason=on_behalf_reason
        )
        own_email = _own_email(session, actor)
        recorded_by = None if voter == own_email else own_email or actor.name
        decision = session.exec(
            select(Decision).where(Decision.gate_id == gate_id, Decision.voter == voter)
        ).one_or_none()
        if decision is not None and _still_counts(decision, now) and _same_vote(decision, ballot, recorded_by):
            return decision  # the same vote again (a retry, a double click)
        before = {"vote": decision.vote.value} if decision is not None else None
        if decision is None:
            decision = Decision(gate_id=gate_id, voter=voter, vote=ballot.vote)
            session.add(decision)
        decision.recorded_by = recorded_by
        decision.on_behalf_reason = on_behalf_reason.strip() if recorded_by and on_behalf_reason else None
        _write_vote(session, decision=decision, ballot=ballot, now=now)
        _announce_vote(session, decision=decision, gate=gate, rollout=rollout, before=before, actor=actor, now=now)
        if ballot.vote == Vote.NO_GO:
            _hold_for_reevaluation(session, rollout=rollout, ballot=ballot, now=now)
        else:
            _release_and_evaluate(session, rollout=rollout, gate_id=gate_id, actor=actor, now=now)
    return decision


def _ballot(
    *,
    vote: Vote,
    comment: str | None,
    conditions: str | None,
    risk_accepted_by: str | None,
    reevaluate_at: date | datetime | None,
    timezone: str,
) -> _Ballot:
    """Refuse a vote that lacks what its kind needs: a Conditional Go its conditions and who
    accepts the risk, a No-Go a re-evaluation date (a day, read in the region's ``timezone``, or
    an aware time)."""
    vote = Vote(vote)
    if vote == Vote.CONDITIONAL_GO and not ((conditions or "").strip() and (risk_accepted_by or "").strip()):
        raise InvalidInput(
            "conditions", "a Conditional Go needs its conditions and who accepts the risk (risk_accepted_by)"
        )
    if vote == Vote.NO_GO and reevaluate_at is None:
        raise InvalidInput("reevaluate_at", "a No-Go needs the date the region will be looked at again")
    when = None if reevaluate_at is None else region_moment(reevaluate_at, timezone=timezone, field="reevaluate_at")
    return _Ballot(vote, comment, conditions, risk_accepted_by, when)


def _lock_approval_gate(session: Session, *, gate_id: int) -> tuple[RegionRollout, Gate]:
    """Lock the gate's region, then the gate (the order every region change takes), and refuse a
    gate that takes no votes."""
    rollout_id = session.exec(select(Gate.rollout_id).where(Gate.id == gate_id)).first()
    if rollout_id is None:
        raise NotFound("gate", gate_id)
    rollout = lock(session, RegionRollout, rollout_id, "region rollout")
    gate = lock(session, Gate, gate_id, "gate")
    if gate.kind != GateKind.APPROVAL:
        raise InvalidInput("gate_id", f"gate {gate_id} is a {gate.kind.value} gate; votes go to approval gates")
    if gate.status == GateStatus.PASSED:
        raise IllegalTransition("gate", "passed", "vote on", [])
    return rollout, gate


def _own_email(session: Session, actor: Actor) -> str | None:
    """The actor's member email: the name approver lists hold."""
    if actor.member_id is None:
        return None
    return session.exec(select(Member.email).where(Member.id == actor.member_id)).one_or_none()


def _authorized_voter(
    session: Session,
    *,
    actor: Actor,
    gate: Gate,
    rollout: RegionRollout,
    on_behalf_of: str | None,
    reason: str | None,
) -> str:
    """The policy's two questions, asked under the gate's lock: whose vote is it, and does it count."""
    settings = get_settings()
    voter = voter_for(
        actor,
        own_email=_own_email(session, actor),
        on_behalf_of=on_behalf_of.strip() if on_behalf_of else None,
        reason=reason,
        allow_on_behalf=settings.votes_on_behalf,
    )
    owner = session.exec(select(Launch.owner).where(Launch.id == rollout.launch_id)).one()
    authorize_approver(
        voter=voter, approvers=gate.approvers, launch_owner=owner, forbid_self_approval=settings.forbid_self_approval
    )
    return voter


def _still_counts(decision: Decision, now: datetime) -> bool:
    """Neither voided nor a Go too old to count: repeating it changes nothing. Repeating a
    voided or stale vote is voting again (confirming it), which is recorded."""
    max_age = go_max_age()
    stale = decision.vote != Vote.NO_GO and max_age is not None and as_utc(decision.cast_at) < now - max_age
    return decision.voided_at is None and not stale


def _same_vote(decision: Decision, ballot: _Ballot, recorded_by: str | None) -> bool:
    stored_reevaluate = as_utc(decision.reevaluate_at) if decision.reevaluate_at else None
    asked_reevaluate = as_utc(ballot.reevaluate_at) if ballot.reevaluate_at else None
    same = (decision.vote, decision.comment, decision.conditions, decision.risk_accepted_by) == (
        ballot.vote,
        ballot.comment,
        ballot.conditions,
        ballot.risk_accepted_by,
    )
    return same and stored_reevaluate == asked_reevaluate and decision.recorded_by == recorded_by


def _write_vote(session: Session, *, decision: Decision, ballot: _Ballot, now: datetime) -> None:
    decision.vote = ballot.vote
    decision.comment = ballot.comment
    decision.conditions = ballot.conditions
    decision.risk_accepted_by = ballot.risk_accepted_by
    decision.reevaluate_at = ballot.reevaluate_at
    decision.cast_at = now
    decision.voided_at = None
    decision.void_reason = None
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
    if decision.recorded_by is not None:
        after["recorded_by"] = decision.recorded_by
    record(
        session,
        actor=actor,
        entity="decision",
        entity_id=decision.id,
        action="decision.cast",
        launch_id=rollout.launch_id,
        before=before,
        after=after,
        reason=decision.on_behalf_reason or decision.comment or decision.conditions,
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
        select(Decision.id).where(
            Decision.gate_id == gate_id, Decision.vote == Vote.NO_GO, col(Decision.voided_at).is_(None)
        )
    ).first()
    if no_go_left is None and rollout.reevaluate_at is not None:
        compare_and_set(session, rollout, "region rollout", reevaluate_at=None, updated_at=now)
    evaluate_gates(session, rollout=rollout, now=now, actor=actor)


def check_may_vote(*, session: Session, gate_id: int, actor: Actor) -> None:
    """Ask, without changing anything, whether ``actor`` could vote on the gate in person: what a
    door asks before opening a form, so nobody types a reason only to be refused. ``cast_vote``
    asks again under the lock."""
    with transaction(session):
        rollout, gate = _lock_approval_gate(session, gate_id=gate_id)
        _authorized_voter(session, actor=actor, gate=gate, rollout=rollout, on_behalf_of=None, reason=None)
