"""Beta cohorts and enrollment: who is let into a beta phase of a launch in a region.

Rules, in the order they are applied:

1. An opt-out wins over everything: an account that opted out of any cohort of a launch is never
   enrolled again in that launch's beta, by invite, nomination or its own request.
2. Eligibility: the account's plan and segment must be among the cohort's (an empty list admits
   any), and its region must be the cohort's region or one of its sub-regions (``NA:CA-QC`` for
   ``NA``). What the account looked like is kept on the enrollment.
3. The cap: a cohort holds at most ``cap`` enrolled accounts; the rest wait in order of request.
   The cohort's row is locked while seats are counted, so concurrent enrollments never exceed it.
   A seat freed by an opt-out (or a raised cap) goes to the longest-waiting account.

Enrolling an account that is already enrolled or waiting is a no-op, so a retry changes nothing.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from orchestrator.beta.eligibility import eligibility_of
from orchestrator.beta.exit_gates import reevaluate_exit_gates
from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import BETA_PHASES, EnrollmentStatus, EnrollmentVia, Phase
from orchestrator.core.errors import AlreadyExists, InvalidInput, NotFound, PreconditionFailed
from orchestrator.core.ledger import record, snapshot
from orchestrator.core.models import BetaCohort, BetaEnrollment, Launch, Region, RegionRollout
from orchestrator.core.policy import authorize_enrollment
from orchestrator.core.unit import compare_and_set, lock, transaction

COHORT = "beta cohort"


ENROLLMENT = "beta enrollment"


_TRACKED = ("status", "terms_accepted_by", "terms_accepted_at", "enrolled_at", "opted_out_at")


def rollout_for(session: Session, *, launch_id: int, region_code: str) -> tuple[RegionRollout, Region]:
    """The launch's rollout in a region, or a NotFound that lists the launch's regions."""
    rows = session.exec(
        select(RegionRollout, Region)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == launch_id)
    ).all()
    for rollout, region in rows:
        if region.code == region_code:
            return rollout, region
    known = ", ".join(sorted(region.code for _, region in rows)) or "none"
    raise NotFound("region", f"{region_code} (this launch's regions: {known})")


def clean_account(account: str) -> str:
    """An account id as given, trimmed; refused when empty or longer than 120 characters."""
    account = account.strip()
    if not account or len(account) > 120:
        raise InvalidInput("account", "give the account's id (1-120 characters)")
    return account


def _clean_list(field: str, values: Sequence[str]) -> list[str]:
    cleaned = sorted({value.strip() for value in values if value.strip()})
    if any(len(value) > 80 for value in cleaned):
        raise InvalidInput(field, "each value must be at most 80 characters")
    return cleaned


def create_cohort(
    *,
    session: Session,
    launch_id: int,
    region_code: str,
    phase: Phase,
    cap: int,
    actor: Actor,
    plans: Sequence[str] = (),
    segments: Sequence[str] = (),
) -> BetaCohort:
    if phase not in BETA_PHASES:
        raise InvalidInput("phase", f"{phase.value} is not a beta phase; use private_beta or public_beta")
    if cap < 1:
        raise InvalidInput("cap", f"must be at least 1, got {cap}")
    eligibility = {"plans": _clean_list("plans", plans), "segments": _clean_list("segments", segments)}
    with transaction(session):
        if session.get(Launch, launch_id) is None:
            raise NotFound("launch", launch_id)
        _rollout, region = rollout_for(session, launch_id=launch_id, region_code=region_code)
        existing = session.exec(
            select(BetaCohort.id).where(
                BetaCohort.launch_id == launch_id, BetaCohort.region_id == region.id, BetaCohort.phase == phase
            )
        ).first()
        if existing is not None:
            raise AlreadyExists(COHORT, f"{region_code}/{phase.value}")
        cohort = BetaCohort(
            launch_id=launch_id,
            region_id=region.id,  # type: ignore[arg-type]
            phase=phase,
            cap=cap,
            eligibility=eligibility,
        )
        session.add(cohort)
        session.flush()
        record(
            session,
            actor=actor,
            entity="beta_cohort",
            entity_id=cohort.id,
            action="beta.cohort_created",
            launch_id=launch_id,
            after={"region": region_code, "phase": phase.value, "cap": cap, "eligibility": eligibility},
        )
    return cohort


def set_cap(*, session: Session, cohort_id: int, cap: int, actor: Actor) -> BetaCohort:
    """Change a cohort's cap. A raised cap lets waiting accounts in; a lowered one removes nobody
    (seats already given are kept) but admits no one until enrollment falls below it."""
    if cap < 1:
        raise InvalidInput("cap", f"must be at least 1, got {cap}")
    with transaction(session):
        cohort = lock(session, BetaCohort, cohort_id, COHORT)
        if cohort.cap == cap:
            return cohort
        before = {"cap": cohort.cap}
        compare_and_set(session, cohort, COHORT, cap=cap)
        record(
            session,
            actor=actor,
            entity="beta_cohort",
            entity_id=cohort.id,
            action="beta.cap_changed",
            launch_id=cohort.launch_id,
            before=before,
            after={"cap": cap},
        )
        _promote_waiting(session, cohort=cohort, actor=actor, now=utcnow())
        _reevaluate_exit_gates(session, cohort=cohort, actor=actor)
    return cohort


def enrolled_count(session: Session, *, cohort_id: int) -> int:
    statement = select(func.count()).where(
        BetaEnrollment.cohort_id == cohort_id, BetaEnrollment.status == EnrollmentStatus.ENROLLED
    )
    return int(session.exec(statement).one())


def _opted_out_of_launch(session: Session, *, launch_id: int, account: str) -> BetaEnrollment | None:
    return session.exec(
        select(BetaEnrollment).where(
            BetaEnrollment.launch_id == launch_id,
            BetaEnrollment.account == account,
            BetaEnrollment.status == EnrollmentStatus.OPTED_OUT,
        )
    ).first()


def enroll(
    *,
    session: Session,
    cohort_id: int,
    account: str,
    via: EnrollmentVia,
    actor: Actor,
    plan: str = "",
    segment: str = "",
    account_region: str | None = None,
    terms_accepted_by: str | None = None,
) -> BetaEnrollment:
    """Let an account in (or onto the waitlist when the cohort is full)."""
    authorize_enrollment(actor, invite=via is EnrollmentVia.INVITE)
    account = clean_account(account)
    now = utcnow()
    with transaction(session):
        cohort = lock(session, BetaCohort, cohort_id, COHORT)
        existing = session.exec(
            select(BetaEnrollment).where(BetaEnrollment.cohort_id == cohort.id, BetaEnrollment.account == account)
        ).first()
        if existing is not None and existing.status != EnrollmentStatus.OPTED_OUT:
            return existing  # already in or waiting: a retry, or a second nomination
        _refuse_opted_out(session, cohort=cohort, account=account, opted_out=existing)
        eligibility = eligibility_of(session, cohort=cohort, plan=plan, segment=segment, account_region=account_region)
        seated = enrolled_count(session, cohort_id=cohort_id) < cohort.cap
        enrollment = _add_enrollment(
            session,
            cohort=cohort,
            account=account,
            via=via,
            actor=actor,
            seated=seated,
            eligibility=eligibility,
            terms_accepted_by=terms_accepted_by,
            now=now,
        )
        record(
            session,
            actor=actor,
            entity="beta_enrollment",
            entity_id=enrollment.id,
            action="beta.enrolled" if seated else "beta.waitlisted",
            launch_id=cohort.launch_id,
            after={**snapshot(enrollment, *_TRACKED), "account": account, "via": via.value, "cohort_id": cohort_id},
        )
        if seated and terms_accepted_by:
            _reevaluate_exit_gates(session, cohort=cohort, actor=actor)
    return enrollment


def _refuse_opted_out(session: Session, *, cohort: BetaCohort, account: str, opted_out: BetaEnrollment | None) -> None:
    """Rule 1: an opt-out is final, from this cohort (``opted_out``, found by the caller) or any other of
    the launch."""
    opted_out = opted_out or _opted_out_of_launch(session, launch_id=cohort.launch_id, account=account)
    if opted_out is not None:
        when = opted_out.opted_out_at.isoformat() if opted_out.opted_out_at else "earlier"
        raise PreconditionFailed(
            f"account {account!r} opted out of this launch's beta ({when}); an opt-out is final and "
            "wins over invites and nominations"
        )


def _add_enrollment(
    session: Session,
    *,
    cohort: BetaCohort,
    account: str,
    via: EnrollmentVia,
    actor: Actor,
    seated: bool,
    eligibility: dict[str, str],
    terms_accepted_by: str | None,
    now: datetime,
) -> BetaEnrollment:
    """Insert the enrollment: enrolled when a seat is free, else waitlisted (rule 3)."""
    enrollment = BetaEnrollment(
        cohort_id=cohort.id,  # type: ignore[arg-type]
        launch_id=cohort.launch_id,
        account=account,
        status=EnrollmentStatus.ENROLLED if seated else EnrollmentStatus.WAITLISTED,
        via=via,
        requested_by=actor.name,
        eligibility_snapshot=eligibility,
        terms_accepted_by=terms_accepted_by,
        terms_accepted_at=now if terms_accepted_by else None,
        requested_at=now,
        enrolled_at=now if seated else None,
    )
    session.add(enrollment)
    session.flush()
    return enrollment


def accept_terms(*, session: Session, enrollment_id: int, accepted_by: str, actor: Actor) -> BetaEnrollment:
    """Record who accepted the beta terms for the account, and when (kept once: the first)."""
    accepted_by = accepted_by.strip()
    if not accepted_by or len(accepted_by) > 254:
        raise InvalidInput("accepted_by", "name who accepted the terms (1-254 characters)")
    with transaction(session):
        cohort, enrollment = _lock_enrollment(session, enrollment_id)
        if enrollment.terms_accepted_at is not None:
            return enrollment
        if enrollment.status == EnrollmentStatus.OPTED_OUT:
            raise PreconditionFailed(f"account {enrollment.account!r} opted out; its terms can no longer be accepted")
        before = snapshot(enrollment, *_TRACKED)
        compare_and_set(session, enrollment, ENROLLMENT, terms_accepted_by=accepted_by, terms_accepted_at=utcnow())
        record(
            session,
            actor=actor,
            entity="beta_enrollment",
            entity_id=enrollment.id,
            action="beta.terms_accepted",
            launch_id=enrollment.launch_id,
            before=before,
            after=snapshot(enrollment, *_TRACKED),
        )
        _reevaluate_exit_gates(session, cohort=cohort, actor=actor)
    return enrollment


def opt_out(
    *, session: Session, cohort_id: int, account: str, actor: Actor, reason: str | None = None
) -> BetaEnrollment:
    """Take an account out of the cohort for good (and out of the launch's other betas' future
    invites and nominations). An account never enrolled is recorded as opted out, so a later
    nomination is refused too. A freed seat goes to the longest-waiting account."""
    account = clean_account(account)
    now = utcnow()
    with transaction(session):
        cohort = lock(session, BetaCohort, cohort_id, COHORT)
        enrollment = session.exec(
            select(BetaEnrollment)
            .where(BetaEnrollment.cohort_id == cohort.id, BetaEnrollment.account == account)
            .with_for_update(key_share=True)
        ).first()
        if enrollment is not None and enrollment.status == EnrollmentStatus.OPTED_OUT:
            return enrollment
        if enrollment is None:
            enrollment = BetaEnrollment(
                cohort_id=cohort_id,
                launch_id=cohort.launch_id,
                account=account,
                status=EnrollmentStatus.OPTED_OUT,
                via=EnrollmentVia.SELF,
                requested_by=actor.name,
                requested_at=now,
                opted_out_at=now,
            )
            session.add(enrollment)
            session.flush()
            before: dict[str, Any] | None = None
        else:
            before = snapshot(enrollment, *_TRACKED)
            compare_and_set(session, enrollment, ENROLLMENT, status=EnrollmentStatus.OPTED_OUT, opted_out_at=now)
        record(
            session,
            actor=actor,
            entity="beta_enrollment",
            entity_id=enrollment.id,
            action="beta.opted_out",
            launch_id=cohort.launch_id,
            before=before,
            after={**snapshot(enrollment, *_TRACKED), "account": account},
            reason=reason,
        )
        _promote_waiting(session, cohort=cohort, actor=actor, now=now)
        _reevaluate_exit_gates(session, cohort=cohort, actor=actor)
    return enrollment


def _lock_enrollment(session: Session, enrollment_id: int) -> tuple[BetaCohort, BetaEnrollment]:
    cohort_id = session.exec(select(BetaEnrollment.cohort_id).where(BetaEnrollment.id == enrollment_id)).first()
    if cohort_id is None:
        raise NotFound(ENROLLMENT, enrollment_id)
    cohort = lock(session, BetaCohort, cohort_id, COHORT)
    return cohort, lock(session, BetaEnrollment, enrollment_id, ENROLLMENT)


def _promote_waiting(session: Session, *, cohort: BetaCohort, actor: Actor, now: datetime) -> None:
    """Give free seats to waiting accounts, longest-waiting first (the caller holds the cohort lock)."""
    free = cohort.cap - enrolled_count(session, cohort_id=cohort.id)  # type: ignore[arg-type]
    if free <= 0:
        return
    waiting = session.exec(
        select(BetaEnrollment)
        .where(BetaEnrollment.cohort_id == cohort.id, BetaEnrollment.status == EnrollmentStatus.WAITLISTED)
        .order_by(col(BetaEnrollment.requested_at), col(BetaEnrollment.id))
        .limit(free)
    ).all()
    for enrollment in waiting:
        before = snapshot(enrollment, *_TRACKED)
        compare_and_set(session, enrollment, ENROLLMENT, status=EnrollmentStatus.ENROLLED, enrolled_at=now)
        record(
            session,
            actor=actor,
            entity="beta_enrollment",
            entity_id=enrollment.id,
            action="beta.promoted",
            launch_id=cohort.launch_id,
            before=before,
            after={**snapshot(enrollment, *_TRACKED), "account": enrollment.account},
            reason="a seat came free",
        )


def _reevaluate_exit_gates(session: Session, *, cohort: BetaCohort, actor: Actor) -> None:
    """Active accounts count toward exit criteria: a change may pass a waiting beta-exit gate now."""
    rollout_id = session.exec(
        select(RegionRollout.id).where(
            RegionRollout.launch_id == cohort.launch_id, RegionRollout.region_id == cohort.region_id
        )
    ).first()
    if rollout_id is not None:
        reevaluate_exit_gates(session, rollout_id=rollout_id, actor=actor)
