"""Beta programs on real databases: enrollment rules and caps (also under concurrent writers),
feedback merging, scoring, exit criteria as gates, and the severity-1 guardrail."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import Session, col, func, select

from orchestrator.beta.cohorts import accept_terms, create_cohort, enroll, opt_out, set_cap
from orchestrator.beta.feedback import merge_feedback, resolve_feedback, submit_feedback
from orchestrator.beta.scoring import ScoringConfig, ranked_feedback, score
from orchestrator.core.enums import (
    EnrollmentStatus,
    EnrollmentVia,
    ExitMetric,
    FeedbackStatus,
    FeedbackType,
    GateKind,
    GateStatus,
    Phase,
    RolloutState,
)
from orchestrator.core.errors import AlreadyExists, InvalidInput, NotFound, PreconditionFailed
from orchestrator.core.models import (
    AuditEvent,
    BetaEnrollment,
    BetaFeedback,
    ChecklistItem,
    Gate,
    Outbox,
    RegionRollout,
)
from orchestrator.gates.beta_exit import beta_exit_status, fix_weeks
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec, RegionPlan
from orchestrator.rollouts.service import advance_phase, mark_live, set_exposure
from tests.support.factories import phase_dates

TIMEOUT = 30


def beta_launch(session, actor, *, slug="beta-launch", regions=("EU",), criteria=None, dates=None):
    spec = LaunchSpec(
        slug=slug,
        name=slug.title(),
        tier=3,
        owner="owner@example.com",
        regions=[RegionPlan(region=code, dates=dates or phase_dates()) for code in regions],
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


def statuses(session, cohort):
    rows = session.exec(
        select(BetaEnrollment.account, BetaEnrollment.status)
        .where(BetaEnrollment.cohort_id == cohort.id)
        .order_by(col(BetaEnrollment.id))
        .execution_options(populate_existing=True)
    ).all()
    session.commit()
    return {account: status.value for account, status in rows}


def rollout(session, launch):
    found = session.exec(
        select(RegionRollout)
        .where(RegionRollout.launch_id == launch.id)
        .order_by(col(RegionRollout.id))
        .execution_options(populate_existing=True)
    ).first()
    session.commit()
    return found


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


# ---- feedback and scoring ------------------------------------------------------------------------


def feedback(session, actor, launch, *, account="acme", severity=3, kind=FeedbackType.BUG, text="It broke"):
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


def test_bad_feedback_is_refused_naming_the_field_and_writes_nothing(seeded, actor):
    launch = beta_launch(seeded, actor)
    cases = [({"severity": 0}, "severity"), ({"text": "   "}, "text"), ({"account": ""}, "account")]
    for changes, field in cases:
        arguments = {"account": "acme", "severity": 3, "text": "It broke", **changes}
        with pytest.raises(InvalidInput) as raised:
            feedback(seeded, actor, launch, **arguments)
        assert raised.value.field == field
    with pytest.raises(InvalidInput) as raised:
        submit_feedback(
            session=seeded,
            launch_id=launch.id,
            region_code="EU",
            phase=Phase.PRIVATE_BETA,
            account="acme",
            type=FeedbackType.GAP,
            severity=2,
            text="x",
            link="ftp://nope",
            actor=actor,
        )
    assert raised.value.field == "link"
    assert seeded.exec(select(func.count()).select_from(BetaFeedback)).one() == 0


def test_merging_duplicates_keeps_counts_accounts_and_the_worse_severity(seeded, actor):
    launch = beta_launch(seeded, actor)
    first = feedback(seeded, actor, launch, account="acme", severity=3)
    second = feedback(seeded, actor, launch, account="globex", severity=2)
    third = feedback(seeded, actor, launch, account="acme", severity=4)

    merge_feedback(session=seeded, feedback_id=second.id, into_id=first.id, actor=actor)
    merged = merge_feedback(session=seeded, feedback_id=third.id, into_id=first.id, actor=actor)
    again = merge_feedback(session=seeded, feedback_id=third.id, into_id=first.id, actor=actor)

    assert (merged.reports, merged.accounts, merged.severity) == (3, ["acme", "globex"], 2)
    assert again.reports == 3
    duplicate = seeded.get(BetaFeedback, second.id)
    assert (duplicate.status, duplicate.merged_into_id) == (FeedbackStatus.MERGED, first.id)
    with pytest.raises(PreconditionFailed, match="merged into"):
        resolve_feedback(session=seeded, feedback_id=second.id, actor=actor)
    with pytest.raises(InvalidInput):
        merge_feedback(session=seeded, feedback_id=first.id, into_id=first.id, actor=actor)


def test_score_follows_the_documented_formula():
    config = ScoringConfig(severity_weights={1: 8, 2: 4, 3: 2, 4: 1}, frequency_exponent=0.5, reach_exponent=1.0)
    assert score(severity=2, reports=9, accounts=3, config=config) == 4 * 3 * 3
    assert score(severity=4, reports=1, accounts=1, config=config) == 1
    flat = ScoringConfig(severity_weights={1: 1, 2: 1, 3: 1, 4: 1}, frequency_exponent=0.0, reach_exponent=0.0)
    assert score(severity=1, reports=50, accounts=50, config=flat) == 1


def test_ranking_is_by_score_then_stable_tie_breaks(seeded, actor):
    launch = beta_launch(seeded, actor)
    with freeze_time("2027-03-02T09:00:00Z"):
        lone_blocker = feedback(seeded, actor, launch, account="acme", severity=1, text="Data lost")
    with freeze_time("2027-03-03T09:00:00Z"):
        popular = feedback(seeded, actor, launch, account="acme", severity=3, text="Slow export")
        for account in ("globex", "initech", "umbrella", "hooli", "stark"):
            duplicate = feedback(seeded, actor, launch, account=account, severity=3, text="Export slow")
            merge_feedback(session=seeded, feedback_id=duplicate.id, into_id=popular.id, actor=actor)
        older_tie = feedback(seeded, actor, launch, account="acme", severity=4, text="Typo A")
        newer_tie = feedback(seeded, actor, launch, account="acme", severity=4, text="Typo B")
        done = feedback(seeded, actor, launch, account="acme", severity=2, text="Fixed already")
        resolve_feedback(session=seeded, feedback_id=done.id, actor=actor)

    config = ScoringConfig(severity_weights={1: 8, 2: 4, 3: 2, 4: 1}, frequency_exponent=0.5, reach_exponent=1.0)
    ranked = ranked_feedback(session=seeded, launch_id=launch.id, config=config)

    # popular: 2 * sqrt(6) * 6 = 29.39; blocker: 8; typos: 1 each, the older first.
    assert [row.feedback_id for row in ranked] == [popular.id, lone_blocker.id, older_tie.id, newer_tie.id]
    assert [row.rank for row in ranked] == [1, 2, 3, 4]
    assert (ranked[0].reports, ranked[0].accounts) == (6, 6)
    assert ranked == ranked_feedback(session=seeded, launch_id=launch.id, config=config)

    severity_first = ScoringConfig(severity_weights={1: 100, 2: 4, 3: 2, 4: 1}, frequency_exponent=0, reach_exponent=0)
    assert ranked_feedback(session=seeded, launch_id=launch.id, config=severity_first)[0].feedback_id == lone_blocker.id
    assert ranked_feedback(session=seeded, launch_id=launch.id, region="NA", config=config) == []


# ---- exit criteria -------------------------------------------------------------------------------


def test_fix_weeks_counts_trailing_weeks_with_fewer_new_bugs_than_fixes():
    now = datetime(2027, 4, 1, tzinfo=UTC)
    day = timedelta(days=1)
    began = now - 40 * day
    # Week 0 (last 7 days): 1 new, 2 fixed -> good. Week 1: 0 new -> good. Week 2: 3 new, 1 fixed -> bad.
    reported = [now - 2 * day, now - 15 * day, now - 16 * day, now - 17 * day]
    fixed = [now - 1 * day, now - 3 * day, now - 18 * day]
    assert fix_weeks(reported=reported, fixed=fixed, since=began, now=now) == 2
    assert fix_weeks(reported=[], fixed=[], since=now - 10 * day, now=now) == 1, "capped by full weeks of beta"
    assert fix_weeks(reported=[], fixed=[], since=None, now=now) == 0
    assert fix_weeks(reported=[now - day], fixed=[now - day], since=began, now=now) == 0, "equal is not slower"


def test_a_launch_with_criteria_gets_beta_exit_gates_after_each_beta_and_one_without_does_not(seeded, actor):
    criteria = {
        Phase.PRIVATE_BETA: {ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 2},
        Phase.PUBLIC_BETA: {ExitMetric.FIX_WEEKS: 2},
    }
    with_criteria = beta_launch(seeded, actor, slug="with-criteria", criteria=criteria)
    without = beta_launch(seeded, actor, slug="without-criteria")

    def exit_gates(launch):
        return sorted(
            phase.value
            for phase in seeded.exec(
                select(Gate.phase)
                .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
                .where(RegionRollout.launch_id == launch.id, Gate.kind == GateKind.BETA_EXIT)
            )
        )

    assert exit_gates(with_criteria) == ["ga", "public_beta"]
    assert exit_gates(without) == []
    with pytest.raises(ValueError, match="not a beta phase"):
        LaunchSpec.model_validate(
            {
                "slug": "bad-criteria",
                "name": "x",
                "tier": 3,
                "owner": "o@example.com",
                "regions": [{"region": "EU", "dates": {"ga": "2027-01-01T00:00:00+00:00"}}],
                "beta_exit_criteria": {"ga": {"open_severity_1": 0}},
            }
        )


def live_in_private_beta(session, actor, launch):
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    region = rollout(session, launch)
    for phase in (Phase.INTERNAL, Phase.PRIVATE_BETA):
        if phase != Phase.INTERNAL:
            advance_phase(session=session, rollout_id=region.id, from_phase=Phase.INTERNAL, actor=actor)
        set_exposure(session=session, rollout_id=region.id, phase=phase, percent=100, actor=actor)
        mark_live(session=session, rollout_id=region.id, phase=phase, actor=actor)
    return rollout(session, launch)


def test_exit_criteria_hold_the_next_phase_until_met_and_show_value_and_threshold(seeded, actor):
    past = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    launch = beta_launch(
        seeded,
        actor,
        dates=past,
        criteria={Phase.PRIVATE_BETA: {ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 1}},
    )
    cohort = cohort_for(seeded, actor, launch, cap=3)
    region = live_in_private_beta(seeded, actor, launch)
    blocker = feedback(seeded, actor, launch, severity=1, text="Loses drafts")

    advance_phase(session=seeded, rollout_id=region.id, from_phase=Phase.PRIVATE_BETA, actor=actor)
    region = rollout(seeded, launch)
    assert (region.state, region.phase) == (RolloutState.GATED, Phase.PUBLIC_BETA)
    shown = {
        row.metric.value: (row.value, row.comparator, row.threshold, row.met)
        for row in beta_exit_status(session=seeded, rollout_id=region.id, phase=Phase.PUBLIC_BETA)
    }
    assert shown == {"open_severity_1": (1, "<=", 0, False), "active_accounts": (0, ">=", 1, False)}

    resolve_feedback(session=seeded, feedback_id=blocker.id, actor=actor)
    assert rollout(seeded, launch).state == RolloutState.GATED, "one criterion is still unmet"

    enrollment = enroll(session=seeded, cohort_id=cohort.id, account="acme", via=EnrollmentVia.INVITE, actor=actor)
    assert rollout(seeded, launch).state == RolloutState.GATED, "terms not accepted yet: not an active account"
    accept_terms(session=seeded, enrollment_id=enrollment.id, accepted_by="cto@acme.example", actor=actor)

    region = rollout(seeded, launch)
    assert (region.state, region.phase) == (RolloutState.READY, Phase.PUBLIC_BETA)
    gate = seeded.exec(
        select(Gate).where(
            Gate.rollout_id == region.id, Gate.kind == GateKind.BETA_EXIT, Gate.phase == Phase.PUBLIC_BETA
        )
    ).one()
    assert gate.status == GateStatus.PASSED
    passed_by = seeded.exec(
        select(AuditEvent.actor).where(AuditEvent.action == "gate.passed", AuditEvent.entity_id == gate.id)
    ).one()
    assert passed_by == actor.name


# ---- guardrail -----------------------------------------------------------------------------------


def test_severity_1_in_a_ramping_region_halts_it_and_alerts_once(seeded, actor):
    past = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    launch = beta_launch(seeded, actor, dates=past)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    region = rollout(seeded, launch)
    set_exposure(session=seeded, rollout_id=region.id, phase=Phase.INTERNAL, percent=50, actor=actor)

    feedback(seeded, actor, launch, severity=2, text="Annoying")
    assert rollout(seeded, launch).state == RolloutState.ROLLING_OUT, "only severity 1 trips the guardrail"

    blocker = feedback(seeded, actor, launch, severity=1, text="Deletes the workspace")

    region = rollout(seeded, launch)
    assert region.state == RolloutState.HALTED
    assert region.halted_from == RolloutState.ROLLING_OUT
    assert f"#{blocker.id}" in region.halt_reason
    alerts = seeded.exec(select(Outbox).where(Outbox.topic == "beta.guardrail_halted")).all()
    assert len(alerts) == 1
    assert alerts[0].payload["owner"] == "owner@example.com"
    assert alerts[0].payload["feedback_id"] == blocker.id
    assert alerts[0].payload["channel"]
    halted = seeded.exec(select(AuditEvent).where(AuditEvent.action == "rollout.halted")).all()
    assert len(halted) == 1

    feedback(seeded, actor, launch, severity=1, text="Again")
    assert len(seeded.exec(select(Outbox).where(Outbox.topic == "beta.guardrail_halted")).all()) == 1, (
        "a halted region is not halted again"
    )


def test_severity_1_outside_a_ramp_records_feedback_without_halting(seeded, actor):
    past = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    launch = beta_launch(seeded, actor, dates=past)
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    feedback(seeded, actor, launch, severity=1, text="Crash")
    assert rollout(seeded, launch).state != RolloutState.HALTED
    assert seeded.exec(select(func.count()).where(Outbox.topic == "beta.guardrail_halted")).one() == 0


def test_scoring_settings_come_from_the_environment_and_bad_ones_name_the_variable(monkeypatch):
    from orchestrator.core.errors import ConfigError
    from orchestrator.core.settings import get_settings, reset_settings

    monkeypatch.setenv("LAUNCHDECK_BETA_SEVERITY_WEIGHTS", '{"1": 10, "2": 5, "3": 1, "4": 0}')
    monkeypatch.setenv("LAUNCHDECK_BETA_FREQUENCY_EXPONENT", "1")
    reset_settings()
    try:
        config = ScoringConfig.from_settings()
        assert (dict(config.severity_weights), config.frequency_exponent, config.reach_exponent) == (
            {1: 10, 2: 5, 3: 1, 4: 0},
            1.0,
            1.0,
        )
        monkeypatch.setenv("LAUNCHDECK_BETA_SEVERITY_WEIGHTS", '{"1": 10}')
        reset_settings()
        with pytest.raises(ConfigError, match="LAUNCHDECK_BETA_SEVERITY_WEIGHTS"):
            get_settings()
    finally:
        monkeypatch.delenv("LAUNCHDECK_BETA_SEVERITY_WEIGHTS")
        monkeypatch.delenv("LAUNCHDECK_BETA_FREQUENCY_EXPONENT")
        reset_settings()


# ---- exit criteria on a running launch ----------------------------------------------------------


def exit_gate(session, launch, phase):
    gate = session.exec(
        select(Gate)
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .where(RegionRollout.launch_id == launch.id, Gate.kind == GateKind.BETA_EXIT, Gate.phase == phase)
        .execution_options(populate_existing=True)
    ).first()
    session.commit()
    return gate


def test_criteria_set_before_the_region_gets_there_add_a_pending_gate(seeded, actor):
    from orchestrator.beta.criteria import set_exit_criteria

    launch = beta_launch(seeded, actor)
    rows = set_exit_criteria(
        session=seeded,
        launch_id=launch.id,
        phase=Phase.PRIVATE_BETA,
        thresholds={ExitMetric.ACTIVE_ACCOUNTS: 3},
        actor=actor,
    )
    assert [(row.metric, row.threshold) for row in rows] == [(ExitMetric.ACTIVE_ACCOUNTS, 3)]
    assert exit_gate(seeded, launch, Phase.PUBLIC_BETA).status == GateStatus.PENDING
    assert exit_gate(seeded, launch, Phase.GA) is None
    with pytest.raises(InvalidInput, match="not a beta phase"):
        set_exit_criteria(session=seeded, launch_id=launch.id, phase=Phase.GA, thresholds={}, actor=actor)


def test_criteria_set_while_a_region_waits_at_the_gate_hold_it_and_clearing_them_lets_it_go(seeded, actor):
    from orchestrator.beta.criteria import set_exit_criteria
    from orchestrator.items.service import check_item
    from orchestrator.launches.spec import ItemSpec

    past = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    spec = LaunchSpec(
        slug="late-criteria",
        name="Late criteria",
        tier=3,
        owner="owner@example.com",
        regions=[RegionPlan(region="EU", dates=past)],
    )
    blocker = ItemSpec(region="EU", phase=Phase.PUBLIC_BETA, key="docs", title="Docs", owner_team="marketing")
    launch = create_launch(session=seeded, spec=spec, items=[blocker], actor=actor)
    region = live_in_private_beta(seeded, actor, launch)
    advance_phase(session=seeded, rollout_id=region.id, from_phase=Phase.PRIVATE_BETA, actor=actor)
    assert rollout(seeded, launch).state == RolloutState.GATED, "waiting on its checklist"

    set_exit_criteria(
        session=seeded,
        launch_id=launch.id,
        phase=Phase.PRIVATE_BETA,
        thresholds={ExitMetric.ACTIVE_ACCOUNTS: 1},
        actor=actor,
    )
    assert exit_gate(seeded, launch, Phase.PUBLIC_BETA).status == GateStatus.OPEN
    item_id = seeded.exec(select(ChecklistItem.id).where(ChecklistItem.launch_id == launch.id)).one()
    check_item(session=seeded, item_id=item_id, actor=actor)
    assert rollout(seeded, launch).state == RolloutState.GATED, "now waiting on the exit criteria"

    set_exit_criteria(session=seeded, launch_id=launch.id, phase=Phase.PRIVATE_BETA, thresholds={}, actor=actor)
    assert rollout(seeded, launch).state == RolloutState.READY
    assert exit_gate(seeded, launch, Phase.PUBLIC_BETA).status == GateStatus.PASSED


def test_criteria_never_put_a_gate_in_front_of_a_region_that_passed_it(seeded, actor):
    from orchestrator.beta.criteria import set_exit_criteria

    past = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    launch = beta_launch(seeded, actor, dates=past)
    region = live_in_private_beta(seeded, actor, launch)
    advance_phase(session=seeded, rollout_id=region.id, from_phase=Phase.PRIVATE_BETA, actor=actor)
    assert rollout(seeded, launch).state == RolloutState.READY
    set_exit_criteria(
        session=seeded,
        launch_id=launch.id,
        phase=Phase.PRIVATE_BETA,
        thresholds={ExitMetric.OPEN_SEVERITY_1: 0},
        actor=actor,
    )
    assert exit_gate(seeded, launch, Phase.PUBLIC_BETA) is None
    assert rollout(seeded, launch).state == RolloutState.READY
