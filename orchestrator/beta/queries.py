"""Beta cohorts, read: each cohort with its seat counts, a cohort's enrollments, and its launch."""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from orchestrator.beta.cohorts import COHORT
from orchestrator.core.enums import EnrollmentStatus
from orchestrator.core.errors import NotFound
from orchestrator.core.models import BetaCohort, BetaEnrollment, Region


@dataclass(frozen=True)
class CohortView:
    cohort: BetaCohort
    region: str
    enrolled: int
    waitlisted: int
    opted_out: int
    active: int  # enrolled and terms accepted


def cohort_views(session: Session, *, launch_id: int) -> list[CohortView]:
    """A launch's cohorts with their seat counts, by region then phase (read-only)."""
    cohorts = session.exec(
        select(BetaCohort, Region.code)
        .join(Region, col(Region.id) == col(BetaCohort.region_id))
        .where(BetaCohort.launch_id == launch_id)
        .order_by(col(Region.rollout_order), col(Region.code), col(BetaCohort.phase))
    ).all()
    counts: dict[tuple[int, EnrollmentStatus], int] = {}
    active: dict[int, int] = {}
    for cohort_id, status, accepted in session.exec(
        select(BetaEnrollment.cohort_id, BetaEnrollment.status, BetaEnrollment.terms_accepted_at).where(
            BetaEnrollment.launch_id == launch_id
        )
    ):
        key = (cohort_id, EnrollmentStatus(status))
        counts[key] = counts.get(key, 0) + 1
        if status == EnrollmentStatus.ENROLLED and accepted is not None:
            active[cohort_id] = active.get(cohort_id, 0) + 1
    return [
        CohortView(
            cohort=cohort,
            region=code,
            enrolled=counts.get((cohort.id, EnrollmentStatus.ENROLLED), 0),  # type: ignore[arg-type]
            waitlisted=counts.get((cohort.id, EnrollmentStatus.WAITLISTED), 0),  # type: ignore[arg-type]
            opted_out=counts.get((cohort.id, EnrollmentStatus.OPTED_OUT), 0),  # type: ignore[arg-type]
            active=active.get(cohort.id, 0),  # type: ignore[arg-type]
        )
        for cohort, code in cohorts
    ]


def enrollments_of(session: Session, *, cohort_id: int) -> list[BetaEnrollment]:
    """A cohort's accounts: enrolled first, then the waitlist in order, then opt-outs."""
    if session.get(BetaCohort, cohort_id) is None:
        raise NotFound(COHORT, cohort_id)
    order = {EnrollmentStatus.ENROLLED: 0, EnrollmentStatus.WAITLISTED: 1, EnrollmentStatus.OPTED_OUT: 2}
    rows = session.exec(select(BetaEnrollment).where(BetaEnrollment.cohort_id == cohort_id)).all()
    return sorted(rows, key=lambda row: (order[row.status], row.requested_at, row.id or 0))


def cohort_launch_id(session: Session, *, cohort_id: int) -> int:
    launch_id = session.exec(select(BetaCohort.launch_id).where(BetaCohort.id == cohort_id)).first()
    if launch_id is None:
        raise NotFound(COHORT, cohort_id)
    return launch_id
