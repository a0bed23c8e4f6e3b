"""Beta cohorts and enrollment (orchestrator/beta/cohorts.py) on real databases: caps, waitlists and
opt-outs, eligibility, terms, and a cap that holds under concurrent writers."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlmodel import Session, col, func, select

from orchestrator.beta.cohorts import accept_terms, enroll, opt_out, set_cap
from orchestrator.core.enums import EnrollmentStatus, EnrollmentVia, Phase
from orchestrator.core.errors import AlreadyExists, InvalidInput, NotFound, PreconditionFailed
from orchestrator.core.models import AuditEvent, BetaEnrollment
from tests.support.beta import beta_launch, cohort_for

TIMEOUT = 30


def statuses(session, cohort):
    rows = session.exec(
        select(BetaEnrollment.account, BetaEnrollment.status)
        .where(BetaEnrollment.cohort_id == cohort.id)
        .order_by(col(BetaEnrollment.id))
        .execution_options(populate_existing=True)
    ).all()
    session.commit()
    return {account: status.value for account, status in rows}


# ---- cohorts and enrollment ----------------------------------------------------------------------


def test_cap_fills_then_waitlists_and_an_opt_out_promotes_the_longest_waiting(seeded, actor):
    launch = beta_launch(seeded, actor)
    cohort = cohort_for(seeded, actor, launch, cap=2)
    for account in ("acme", "globex", "initech", "umbrella"):
        enroll(session=seeded, cohort_id=cohort.id, account=account, via=EnrollmentVia.INVITE, actor=actor)
    assert statuses(seeded, cohort) == {
        "acme": "enrolled",
        "globex": "enrolled",
        "initech": "waitlisted",
        "umbrella": "waitlisted",
    }

    opt_out(session=seeded, cohort_id=cohort.id, account="acme", actor=actor, reason="too busy")

    assert statuses(seeded, cohort) == {
        "acme": "opted_out",
        "globex": "enrolled",
        "initech": "enrolled",
        "umbrella": "waitlisted",
    }
    promoted = seeded.exec(select(AuditEvent).where(AuditEvent.action == "beta.promoted")).all()
    assert [event.after["account"] for event in promoted] == ["initech"]


def test_raising_the_cap_lets_waiting_accounts_in(seeded, actor):
    launch = beta_launch(seeded, actor)
    cohort = cohort_for(seeded, actor, launch, cap=1)
    for account in ("acme", "globex", "initech"):
        enroll(session=seeded, cohort_id=cohort.id, account=account, via=EnrollmentVia.SELF, actor=actor)
    set_cap(session=seeded, cohort_id=cohort.id, cap=2, actor=actor)
    assert statuses(seeded, cohort) == {"acme": "enrolled", "globex": "enrolled", "initech": "waitlisted"}


def test_enrolling_twice_is_a_no_op(seeded, actor):
    launch = beta_launch(seeded, actor)
    cohort = cohort_for(seeded, actor, launch, cap=5)
    first = enroll(session=seeded, cohort_id=cohort.id, account="acme", via=EnrollmentVia.INVITE, actor=actor)
    again = enroll(session=seeded, cohort_id=cohort.id, account="acme", via=EnrollmentVia.NOMINATION, actor=actor)
    assert again.id == first.id
    assert again.via == EnrollmentVia.INVITE
    events = seeded.exec(select(func.count()).where(AuditEvent.action == "beta.enrolled")).one()
    assert events == 1


def test_opt_out_wins_over_nomination_and_invite_in_every_cohort_of_the_launch(seeded, actor):
    launch = beta_launch(seeded, actor)
    private = cohort_for(seeded, actor, launch, cap=5)
    public = cohort_for(seeded, actor, launch, cap=5, phase=Phase.PUBLIC_BETA)
    enroll(session=seeded, cohort_id=private.id, account="acme", via=EnrollmentVia.SELF, actor=actor)
    opt_out(session=seeded, cohort_id=private.id, account="acme", actor=actor)

    for cohort in (private, public):
        for via in EnrollmentVia:
            with pytest.raises(PreconditionFailed, match="opted out"):
                enroll(session=seeded, cohort_id=cohort.id, account="acme", via=via, actor=actor)
    assert statuses(seeded, private) == {"acme": "opted_out"}
    assert statuses(seeded, public) == {}


def test_an_account_can_opt_out_before_anyone_nominates_it(seeded, actor):
    launch = beta_launch(seeded, actor)
    cohort = cohort_for(seeded, actor, launch, cap=5)
    opt_out(session=seeded, cohort_id=cohort.id, account="hooli", actor=actor)
    with pytest.raises(PreconditionFailed, match="hooli"):
        enroll(session=seeded, cohort_id=cohort.id, account="hooli", via=EnrollmentVia.NOMINATION, actor=actor)


def test_eligibility_names_the_field_that_fails_and_keeps_a_snapshot(seeded, actor):
    launch = beta_launch(seeded, actor)
    cohort = cohort_for(seeded, actor, launch, cap=5, plans=("enterprise",), segments=("fintech", "retail"))

    cases = [
        ({"plan": "free", "segment": "fintech"}, "plan"),
        ({"plan": "enterprise", "segment": "gaming"}, "segment"),
        ({"plan": "enterprise", "segment": "retail", "account_region": "NA"}, "account_region"),
    ]
    for fields, named in cases:
        with pytest.raises(InvalidInput) as raised:
            enroll(session=seeded, cohort_id=cohort.id, account="acme", via=EnrollmentVia.SELF, actor=actor, **fields)
        assert raised.value.field == named
    assert statuses(seeded, cohort) == {}

    enrolled = enroll(
        session=seeded,
        cohort_id=cohort.id,
        account="acme",
        via=EnrollmentVia.SELF,
        actor=actor,
        plan="enterprise",
        segment="retail",
        terms_accepted_by="cto@acme.example",
    )
    assert enrolled.status == EnrollmentStatus.ENROLLED
    assert enrolled.eligibility_snapshot == {"plan": "enterprise", "segment": "retail", "region": "EU"}
    assert enrolled.terms_accepted_by == "cto@acme.example"
    assert enrolled.terms_accepted_at is not None


def test_terms_are_recorded_once_with_who_and_when(seeded, actor):
    launch = beta_launch(seeded, actor)
    cohort = cohort_for(seeded, actor, launch, cap=5)
    enrollment = enroll(session=seeded, cohort_id=cohort.id, account="acme", via=EnrollmentVia.INVITE, actor=actor)
    with freeze_time("2027-02-02T10:00:00Z"):
        accepted = accept_terms(
            session=seeded, enrollment_id=enrollment.id, accepted_by="cto@acme.example", actor=actor
        )
    again = accept_terms(session=seeded, enrollment_id=enrollment.id, accepted_by="someone@else", actor=actor)
    assert accepted.terms_accepted_by == again.terms_accepted_by == "cto@acme.example"
    assert again.terms_accepted_at.replace(tzinfo=UTC) == datetime(2027, 2, 2, 10, tzinfo=UTC)


def test_cohorts_only_for_beta_phases_and_once_per_region(seeded, actor):
    launch = beta_launch(seeded, actor)
    with pytest.raises(InvalidInput, match="not a beta phase"):
        cohort_for(seeded, actor, launch, phase=Phase.GA)
    with pytest.raises(NotFound, match="EU"):
        cohort_for(seeded, actor, launch, region="APAC")
    cohort_for(seeded, actor, launch)
    with pytest.raises(AlreadyExists):
        cohort_for(seeded, actor, launch)


def test_concurrent_enrollments_never_exceed_the_cap(engine, seeded, actor):
    """Twelve accounts ask for five seats at once, each on its own connection."""
    import threading

    launch = beta_launch(seeded, actor)
    cohort = cohort_for(seeded, actor, launch, cap=5)
    seeded.commit()
    accounts = [f"account-{index}" for index in range(12)]
    start = threading.Barrier(len(accounts))
    errors: list[BaseException] = []

    def join(account: str) -> None:
        try:
            with Session(engine, expire_on_commit=False) as session:
                start.wait(timeout=TIMEOUT)
                enroll(session=session, cohort_id=cohort.id, account=account, via=EnrollmentVia.SELF, actor=actor)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread to assert on
            errors.append(exc)

    threads = [threading.Thread(target=join, args=(account,), daemon=True) for account in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    assert not errors, errors
    result = statuses(seeded, cohort)
    assert len(result) == 12
    assert sorted(result.values()).count("enrolled") == 5
    assert sorted(result.values()).count("waitlisted") == 7
