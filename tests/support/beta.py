"""Beta programs built through the real services: a launch with exit criteria, a cohort, feedback
from an account, and the launch's first rollout read fresh."""

from sqlmodel import col, select

from orchestrator.beta.cohorts import create_cohort
from orchestrator.beta.feedback import submit_feedback
from orchestrator.core.enums import FeedbackType, Phase
from orchestrator.core.models import RegionRollout
from orchestrator.launches.service import create_launch
from orchestrator.launches.spec import LaunchSpec
from tests.support.factories import phase_dates, region_plan


def beta_launch(session, actor, *, slug="beta-launch", regions=("EU",), criteria=None, dates=None):
    spec = LaunchSpec(
        slug=slug,
        name=slug.title(),
        tier=3,
        owner="owner@example.com",
        approvers=["vp@example.com"],
        regions=[region_plan(code, dates or phase_dates()) for code in regions],
        beta_exit_criteria=criteria or {},
    )
    return create_launch(session=session, spec=spec, actor=actor)


def cohort_for(session, actor, launch, *, cap=2, plans=(), segments=(), region="EU", phase=Phase.PRIVATE_BETA):
    return create_cohort(
        session=session,
        launch_id=launch.id,
        region_code=region,
        phase=phase,
        cap=cap,
        plans=plans,
        segments=segments,
        actor=actor,
    )


def rollout(session, launch):
    found = session.exec(
        select(RegionRollout)
        .where(RegionRollout.launch_id == launch.id)
        .order_by(col(RegionRollout.id))
        .execution_options(populate_existing=True)
    ).first()
    session.commit()
    return found


# ---- feedback and scoring ------------------------------------------------------------------------


def feedback(session, actor, launch, *, account="acme", severity=3, kind=FeedbackType.BUG, text="It broke"):
    """A report from ``account`` in the launch's EU private beta (a bug unless ``kind`` says otherwise)."""
    return submit_feedback(
        session=session,
        launch_id=launch.id,
        region_code="EU",
        phase=Phase.PRIVATE_BETA,
        account=account,
        type=kind,
        severity=severity,
        text=text,
        actor=actor,
    )
