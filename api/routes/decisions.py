"""Go / Conditional Go / No-Go votes on approval gates, and a launch's decision log (every vote
and every waiver: the record of who accepted which risk)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.common import MAX_DB_INT
from api.schemas.gates import ApproversIn, DecisionLogOut, DecisionOut, GateOut, VoteIn
from orchestrator.core.policy import LAUNCH_OPERATORS, READERS, VOTERS
from orchestrator.gates.approvals import cast_vote
from orchestrator.gates.approvers import change_approvers
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.decisions import decision_log, vote_view

router = APIRouter(responses=ERROR_RESPONSES, tags=["decisions"])


@router.post("/gates/{gate_id}/votes", response_model=DecisionOut, dependencies=[Depends(allow(VOTERS))])
def vote(
    gate_id: Annotated[int, Path(ge=1, le=MAX_DB_INT, description="An approval gate's id.")],
    body: VoteIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> DecisionOut:
    """Cast (or change) your own vote: it counts for the member your token belongs to. Conditional
    Go names its conditions and who accepts the risk; No-Go names when to look again. Product ops
    may record an approver's vote given elsewhere with on_behalf_of and a reason. The vote that
    completes the gate passes it; the answer carries the gate's status after the vote."""
    decision = cast_vote(
        session=session,
        gate_id=gate_id,
        # A name in the body never makes a voter: naming someone else is asking to vote on their
        # behalf, which the policy allows product ops only, with a reason.
        on_behalf_of=body.on_behalf_of or body.voter,
        on_behalf_reason=body.on_behalf_reason,
        vote=body.vote,
        actor=principal.actor,
        comment=body.comment,
        conditions=body.conditions,
        risk_accepted_by=body.risk_accepted_by,
        reevaluate_at=body.reevaluate_at,
    )
    assert decision.id is not None
    return DecisionOut.model_validate(vote_view(session=session, decision_id=decision.id), from_attributes=True)


@router.put("/launches/{slug}/approvers", response_model=list[GateOut], dependencies=[Depends(allow(LAUNCH_OPERATORS))])
def set_approvers(slug: str, body: ApproversIn, session: SessionDep, principal: PrincipalDep) -> list[GateOut]:
    """Change who approves a phase (in one region or all) and the quorum, with a reason. Only gates
    still waiting for votes change; votes already cast on them are void (kept in the audit trail)
    and their approvers are told to vote again. Answers the gates changed (none if nothing did)."""
    gates = change_approvers(
        session=session,
        launch_id=launch_id_for(session=session, slug=slug),
        phase=body.phase,
        approvers=body.approvers,
        actor=principal.actor,
        reason=body.reason,
        region=body.region,
        quorum=body.quorum,
        distinct_teams=body.distinct_teams,
    )
    return [GateOut.model_validate(gate, from_attributes=True) for gate in gates]


@router.get("/launches/{slug}/decisions", response_model=DecisionLogOut, dependencies=[Depends(allow(READERS))])
def launch_decisions(slug: str, session: SessionDep) -> DecisionLogOut:
    """Every current vote (a changed vote shows as it is now; the audit trail keeps the earlier
    one) and every waiver, revoked ones included, newest first."""
    log = decision_log(session=session, launch_id=launch_id_for(session=session, slug=slug))
    return DecisionLogOut.model_validate(log, from_attributes=True)
