"""The leadership rollup: every active launch at a glance, coloured exactly as the daily digest
colours it (the same ``build_leadership_digest`` / ``rag_for``), plus readiness per team and the
phase dates that slipped. A fixed number of queries however many launches are active."""

from fastapi import APIRouter, Depends

from api.deps import SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.reporting import LaunchRollup, LaunchRollupOut, RollupOut
from orchestrator.core.clock import utcnow
from orchestrator.core.policy import READERS
from orchestrator.reporting.digest import build_leadership_digest
from orchestrator.reporting.rag import Rag
from orchestrator.reporting.readiness import phase_slips, team_readiness

router = APIRouter(responses=ERROR_RESPONSES, tags=["rollup"])


@router.get("/rollup", response_model=RollupOut, dependencies=[Depends(allow(READERS))])
def rollup(session: SessionDep) -> RollupOut:
    """Active launches, red first: RAG with its reason, each region's state and readiness
    (open, overdue and blocked blocking items), each team's done/total, and slipped dates."""
    digest = build_leadership_digest(session=session, now=utcnow())
    launch_ids = [launch.id for launch in digest.launches]
    teams = team_readiness(session=session, launch_ids=launch_ids)
    slips = phase_slips(session=session, launch_ids=launch_ids)
    session.commit()  # end the read (on SQLite an open read pins its snapshot)
    launches = [LaunchRollup(launch, teams[launch.id], slips[launch.id]) for launch in digest.launches]
    # By hand: the counts are tallies the digest computes, not attributes it holds.
    return RollupOut(
        generated_at=digest.generated_at,
        counts={rag.value: digest.count(rag) for rag in Rag},
        launches=[LaunchRollupOut.model_validate(launch, from_attributes=True) for launch in launches],
    )
