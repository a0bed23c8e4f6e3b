"""Beta exit criteria as gates on real databases: the gates a launch with criteria gets, criteria
holding the next phase until met (with value and threshold shown), and criteria set or cleared on a
running launch."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from orchestrator.beta.cohorts import accept_terms, enroll
from orchestrator.beta.feedback import resolve_feedback
from orchestrator.core.enums import EnrollmentVia, ExitMetric, GateKind, GateStatus, Phase, RolloutState
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, RegionRollout
from orchestrator.gates.beta_exit import beta_exit_status, fix_weeks
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec, RegionPlan
from orchestrator.rollouts.service import advance_phase, mark_live, set_exposure
from tests.support.beta import beta_launch, cohort_for, feedback, rollout
from tests.support.factories import phase_dates


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
                "regions": [
                    {
                        "region": "EU",
                        "dates": {"ga": "2027-01-01T00:00:00+00:00"},
                        "skip": ["internal", "private_beta", "public_beta"],
                    }
                ],
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
        approvers=["vp@example.com"],
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
