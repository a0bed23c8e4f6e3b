"""The leadership rollup: every active launch at a glance, coloured exactly as the daily digest
colours it (the same ``build_leadership_digest`` / ``rag_for``), plus readiness per team and the
phase dates that slipped. A fixed number of queries however many launches are active."""

from fastapi import APIRouter, Depends

from api.deps import SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.reporting import LaunchRollupOut, RegionRollupOut, RollupOut, SlipOut, TeamReadinessOut
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
    return RollupOut(
        generated_at=digest.generated_at,
        counts={rag.value: digest.count(rag) for rag in Rag},
        launches=[
            LaunchRollupOut(
                id=launch.id,
                slug=launch.slug,
                name=launch.name,
                tier=launch.tier,
                owner=launch.owner,
                exec_sponsor=launch.exec_sponsor,
                rag=launch.rag,
                reason=launch.reason,
                regions=[RegionRollupOut.model_validate(region, from_attributes=True) for region in launch.regions],
                teams=[TeamReadinessOut.model_validate(team, from_attributes=True) for team in teams[launch.id]],
                slips=[
                    SlipOut(
                        region=slip.region,
                        phase=slip.phase,
                        baseline_at=slip.baseline_at,
                        current_at=slip.current_at,
                        slip_days=round(slip.slip_days, 2),
                        reason=slip.reason,
                    )
                    for slip in slips[launch.id]
                ],
            )
            for launch in digest.launches
        ],
    )
