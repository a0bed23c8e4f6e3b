"""Beta programs: cohorts and enrollment (prodops manages cohorts and invites; members, sales
among them, nominate and relay opt-ins, opt-outs and terms), feedback intake and merging, and the
ranked feedback list for the product manager. Exit criteria show on the launch's gates."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from sqlmodel import Session

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.routes.launches import launch_answer
from api.schemas.beta import (
    CapIn,
    CohortIn,
    CohortOut,
    EnrollIn,
    EnrollmentOut,
    ExitCriteriaIn,
    FeedbackIn,
    FeedbackOut,
    MergeIn,
    OptOutIn,
    RankedOut,
    ResolveIn,
    TermsIn,
)
from api.schemas.common import MAX_DB_INT, NO_NUL
from api.schemas.launches import LaunchOut
from orchestrator.beta import cohorts as beta_cohorts
from orchestrator.beta import feedback as beta_feedback
from orchestrator.beta import queries as beta_queries
from orchestrator.beta.criteria import set_exit_criteria
from orchestrator.beta.scoring import ranked_feedback
from orchestrator.core.enums import Phase
from orchestrator.core.policy import ITEM_EDITORS, LAUNCH_OPERATORS, READERS
from orchestrator.launches.queries import launch_id_for

router = APIRouter(responses=ERROR_RESPONSES, tags=["beta"])
Id = Annotated[int, Path(ge=1, le=MAX_DB_INT)]


def _cohort_out(session: Session, cohort_id: int) -> CohortOut:
    launch_id = beta_queries.cohort_launch_id(session, cohort_id=cohort_id)
    views = beta_queries.cohort_views(session, launch_id=launch_id)
    return CohortOut.model_validate(next(view for view in views if view.cohort.id == cohort_id), from_attributes=True)


@router.get("/launches/{slug}/beta/cohorts", response_model=list[CohortOut], dependencies=[Depends(allow(READERS))])
def list_cohorts(slug: str, session: SessionDep) -> list[CohortOut]:
    """The launch's beta cohorts with their caps and seat counts."""
    launch_id = launch_id_for(session=session, slug=slug)
    views = beta_queries.cohort_views(session, launch_id=launch_id)
    return [CohortOut.model_validate(view, from_attributes=True) for view in views]


@router.post(
    "/launches/{slug}/beta/cohorts",
    response_model=CohortOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(allow(LAUNCH_OPERATORS))],
)
def create_cohort(slug: str, body: CohortIn, session: SessionDep, principal: PrincipalDep) -> CohortOut:
    """Open a cohort for one beta phase in one region, with a cap and eligibility rules."""
    cohort = beta_cohorts.create_cohort(
        session=session,
        launch_id=launch_id_for(session=session, slug=slug),
        region_code=body.region,
        phase=body.phase,
        cap=body.cap,
        plans=body.plans,
        segments=body.segments,
        actor=principal.actor,
    )
    assert cohort.id is not None
    return _cohort_out(session, cohort.id)


@router.post("/beta/cohorts/{cohort_id}/cap", response_model=CohortOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))])
def change_cap(cohort_id: Id, body: CapIn, session: SessionDep, principal: PrincipalDep) -> CohortOut:
    """Change the cap; a raised cap lets the longest-waiting accounts in."""
    beta_cohorts.set_cap(session=session, cohort_id=cohort_id, cap=body.cap, actor=principal.actor)
    return _cohort_out(session, cohort_id)


@router.get(
    "/beta/cohorts/{cohort_id}/enrollments",
    response_model=list[EnrollmentOut],
    dependencies=[Depends(allow(READERS))],
)
def list_enrollments(cohort_id: Id, session: SessionDep) -> list[EnrollmentOut]:
    """Enrolled accounts, then the waitlist in order, then opt-outs."""
    rows = beta_queries.enrollments_of(session, cohort_id=cohort_id)
    return [EnrollmentOut.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/beta/cohorts/{cohort_id}/enrollments",
    response_model=EnrollmentOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(allow(ITEM_EDITORS))],
)
def enroll(cohort_id: Id, body: EnrollIn, session: SessionDep, principal: PrincipalDep) -> EnrollmentOut:
    """Enroll an account (waitlisted when the cohort is full). Invites are prodops' to give;
    members nominate or relay an account's own opt-in. An opted-out account is refused (409).
    Enrolling an account already in or waiting answers its enrollment unchanged."""
    row = beta_cohorts.enroll(
        session=session,
        cohort_id=cohort_id,
        account=body.account,
        via=body.via,
        plan=body.plan or "",
        segment=body.segment or "",
        account_region=body.account_region,
        terms_accepted_by=body.terms_accepted_by,
        actor=principal.actor,
    )
    return EnrollmentOut.model_validate(row, from_attributes=True)


@router.post(
    "/beta/enrollments/{enrollment_id}/terms",
    response_model=EnrollmentOut,
    dependencies=[Depends(allow(ITEM_EDITORS))],
)
def accept_terms(enrollment_id: Id, body: TermsIn, session: SessionDep, principal: PrincipalDep) -> EnrollmentOut:
    """Record who accepted the beta terms for the account, and when (the first acceptance stays)."""
    row = beta_cohorts.accept_terms(
        session=session, enrollment_id=enrollment_id, accepted_by=body.accepted_by, actor=principal.actor
    )
    return EnrollmentOut.model_validate(row, from_attributes=True)


@router.post(
    "/beta/cohorts/{cohort_id}/opt-out",
    response_model=EnrollmentOut,
    dependencies=[Depends(allow(ITEM_EDITORS))],
)
def opt_out(cohort_id: Id, body: OptOutIn, session: SessionDep, principal: PrincipalDep) -> EnrollmentOut:
    """Take an account out for good: no later invite or nomination in this launch brings it back.
    Its seat goes to the longest-waiting account."""
    row = beta_cohorts.opt_out(
        session=session, cohort_id=cohort_id, account=body.account, reason=body.reason, actor=principal.actor
    )
    return EnrollmentOut.model_validate(row, from_attributes=True)


@router.post(
    "/launches/{slug}/beta/feedback",
    response_model=FeedbackOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(allow(ITEM_EDITORS))],
)
def submit(slug: str, body: FeedbackIn, session: SessionDep, principal: PrincipalDep) -> FeedbackOut:
    """Log a beta report. Severity 1 in a region that is ramping halts that region at once and
    alerts its channel and the launch owner."""
    row = beta_feedback.submit_feedback(
        session=session,
        launch_id=launch_id_for(session=session, slug=slug),
        region_code=body.region,
        phase=body.phase,
        account=body.account,
        type=body.type,
        severity=body.severity,
        text=body.text,
        link=body.link,
        actor=principal.actor,
    )
    return FeedbackOut.model_validate(row, from_attributes=True)


@router.get(
    "/launches/{slug}/beta/feedback/ranked",
    response_model=list[RankedOut],
    dependencies=[Depends(allow(READERS))],
)
def ranked(
    slug: str,
    session: SessionDep,
    region: Annotated[str | None, Query(max_length=40, pattern=NO_NUL)] = None,
    phase: Phase | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[RankedOut]:
    """Open feedback, highest score first: severity weight x reports^f x accounts^r (see README)."""
    rows = ranked_feedback(
        session=session, launch_id=launch_id_for(session=session, slug=slug), region=region, phase=phase, limit=limit
    )
    return [RankedOut.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/beta/feedback/{feedback_id}/merge",
    response_model=FeedbackOut,
    dependencies=[Depends(allow(LAUNCH_OPERATORS))],
)
def merge(feedback_id: Id, body: MergeIn, session: SessionDep, principal: PrincipalDep) -> FeedbackOut:
    """Fold a duplicate into the report it repeats; answers the report merged into."""
    row = beta_feedback.merge_feedback(
        session=session, feedback_id=feedback_id, into_id=body.into, actor=principal.actor
    )
    return FeedbackOut.model_validate(row, from_attributes=True)


@router.post(
    "/beta/feedback/{feedback_id}/resolve",
    response_model=FeedbackOut,
    dependencies=[Depends(allow(ITEM_EDITORS))],
)
def resolve(feedback_id: Id, body: ResolveIn, session: SessionDep, principal: PrincipalDep) -> FeedbackOut:
    """Mark a report fixed or answered (it leaves the ranked list and counts as a fix)."""
    row = beta_feedback.resolve_feedback(
        session=session, feedback_id=feedback_id, reason=body.reason, actor=principal.actor
    )
    return FeedbackOut.model_validate(row, from_attributes=True)


@router.put(
    "/launches/{slug}/beta/exit-criteria", response_model=LaunchOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))]
)
def put_exit_criteria(slug: str, body: ExitCriteriaIn, session: SessionDep, principal: PrincipalDep) -> LaunchOut:
    """Replace a beta phase's exit criteria on a running launch. Regions not yet past the next
    phase's gate get a beta_exit gate; an empty object clears the criteria and lets waiting regions
    through. Answers the launch, whose gates show each criterion's value and threshold."""
    set_exit_criteria(
        session=session,
        launch_id=launch_id_for(session=session, slug=slug),
        phase=body.phase,
        thresholds=body.criteria,
        actor=principal.actor,
    )
    return launch_answer(session, slug)
