"""Go / Conditional Go / No-Go votes on approval gates, and a launch's decision log (every vote
and every waiver: the record of who accepted which risk)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from sqlmodel import Session

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.common import MAX_DB_INT
from api.schemas.gates import DecisionLogOut, DecisionOut, VoteIn, WaiverOut
from orchestrator.core.clock import as_utc
from orchestrator.core.models import Member
from orchestrator.core.policy import READERS, VOTERS
from orchestrator.directory.tokens import Principal
from orchestrator.gates.approvals import cast_vote
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.decisions import VoteView, WaiverView, decision_log, vote_view

router = APIRouter(responses=ERROR_RESPONSES, tags=["decisions"])


def decision_out(view: VoteView) -> DecisionOut:
    decision = view.decision
    assert decision.id is not None
    return DecisionOut(
        id=decision.id,
        gate_id=view.gate_id,
        gate_status=view.gate_status,
        phase=view.phase,
        region=view.region,
        voter=decision.voter,
        vote=decision.vote,
        comment=decision.comment,
        conditions=decision.conditions,
        risk_accepted_by=decision.risk_accepted_by,
        reevaluate_at=as_utc(decision.reevaluate_at) if decision.reevaluate_at is not None else None,
        cast_at=as_utc(decision.cast_at),
    )


def waiver_out(view: WaiverView) -> WaiverOut:
    waiver = view.waiver
    assert waiver.id is not None
    return WaiverOut(
        id=waiver.id,
        item_id=waiver.item_id,
        item_key=view.item_key,
        phase=view.phase,
        region=view.region,
        approver=waiver.approver,
        reason=waiver.reason,
        expires_at=as_utc(waiver.expires_at) if waiver.expires_at is not None else None,
        created_at=as_utc(waiver.created_at),
        revoked_at=as_utc(waiver.revoked_at) if waiver.revoked_at is not None else None,
        revoked_by=waiver.revoked_by,
    )


def _default_voter(session: Session, principal: Principal) -> str:
    """Who votes when the body names nobody: the token's member (approver lists hold member
    emails, so that is the name a gate recognises), else the token's own name."""
    if principal.member_id is not None:
        member = session.get(Member, principal.member_id)
        if member is not None:
            return member.email
    return principal.name


@router.post("/gates/{gate_id}/votes", response_model=DecisionOut, dependencies=[Depends(allow(VOTERS))])
def vote(
    gate_id: Annotated[int, Path(ge=1, le=MAX_DB_INT, description="An approval gate's id.")],
    body: VoteIn,
    session: SessionDep,
    principal: PrincipalDep,
) -> DecisionOut:
    """Cast (or change) a vote. Conditional Go names its conditions and who accepts the risk;
    No-Go names when to look again. The vote that completes the gate passes it; the answer
    carries the gate's status after the vote."""
    decision = cast_vote(
        session=session,
        gate_id=gate_id,
        voter=body.voter or _default_voter(session, principal),
        vote=body.vote,
        actor=principal.actor,
        comment=body.comment,
        conditions=body.conditions,
        risk_accepted_by=body.risk_accepted_by,
        reevaluate_at=body.reevaluate_at,
    )
    assert decision.id is not None
    return decision_out(vote_view(session=session, decision_id=decision.id))


@router.get("/launches/{slug}/decisions", response_model=DecisionLogOut, dependencies=[Depends(allow(READERS))])
def launch_decisions(slug: str, session: SessionDep) -> DecisionLogOut:
    """Every current vote (a changed vote shows as it is now; the audit trail keeps the earlier
    one) and every waiver, revoked ones included, newest first."""
    log = decision_log(session=session, launch_id=launch_id_for(session=session, slug=slug))
    return DecisionLogOut(
        votes=[decision_out(view) for view in log.votes], waivers=[waiver_out(view) for view in log.waivers]
    )
