"""Beta exit criteria and the severity-1 guardrail against real region flows: the worker runs the
advance-region flow on the suite's Prefect server, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from flows.artifacts import readiness_markdown
from flows.worker import Worker
from orchestrator.beta.cohorts import create_cohort, enroll
from orchestrator.beta.feedback import resolve_feedback
from orchestrator.core.enums import EnrollmentVia, ExitMetric, LaunchStatus, Phase, RolloutState
from orchestrator.core.models import ExposureChange, Outbox
from orchestrator.gates.beta_exit import beta_exit_status
from tests.support.beta import feedback as report
from tests.support.flows import drain, ready_launch
from tests.support.flows import rollout_of as region_rollout

pytestmark = pytest.mark.usefixtures("prefect_server")

BETAS = (Phase.PRIVATE_BETA, Phase.PUBLIC_BETA)


def exposures(session, slug):
    rows = session.exec(
        select(ExposureChange.phase, ExposureChange.percent)
        .where(ExposureChange.launch_slug == slug)
        .order_by(col(ExposureChange.id))
    ).all()
    session.commit()
    return [(phase.value, percent) for phase, percent in rows]


def test_exit_criteria_hold_a_region_in_private_beta_until_they_are_met(flow_db, seeded, actor):
    criteria = {Phase.PRIVATE_BETA: {ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 1}}
    launch = ready_launch(seeded, actor, slug="beta-exit", phases=BETAS, beta_exit_criteria=criteria)
    cohort = create_cohort(
        session=seeded, launch_id=launch.id, region_code="EU", phase=Phase.PRIVATE_BETA, cap=10, actor=actor
    )
    blocker = report(seeded, actor, launch, severity=1, text="Sync deletes local drafts")
    worker = Worker(publish_events=False)

    drain(worker, seeded, "beta-exit")

    region = region_rollout(seeded, launch)
    assert (region.state, region.phase) == (RolloutState.GATED, Phase.PUBLIC_BETA)
    assert exposures(seeded, "beta-exit") == [("private_beta", 100)], "public beta must not start"
    shown = {
        c.metric.value: (c.value, c.threshold, c.met)
        for c in beta_exit_status(session=seeded, rollout_id=region.id, phase=Phase.PUBLIC_BETA)
    }
    assert shown == {"open_severity_1": (1, 0, False), "active_accounts": (0, 1, False)}
    markdown = readiness_markdown(seeded, rollout_id=region.id, title="EU public beta", phase=Phase.PUBLIC_BETA)
    assert "| open_severity_1 | 1 | <= 0 | no |" in markdown

    resolve_feedback(session=seeded, feedback_id=blocker.id, actor=actor)
    drain(worker, seeded, "beta-exit")
    assert region_rollout(seeded, launch).state == RolloutState.GATED, "still no active account"
    assert exposures(seeded, "beta-exit") == [("private_beta", 100)]

    enroll(
        session=seeded,
        cohort_id=cohort.id,
        account="acme",
        via=EnrollmentVia.INVITE,
        terms_accepted_by="cto@acme.example",
        actor=actor,
    )
    finished = drain(worker, seeded, "beta-exit")

    assert finished.status == LaunchStatus.COMPLETED
    assert exposures(seeded, "beta-exit") == [
        ("private_beta", 100),
        ("public_beta", 10),
        ("public_beta", 50),
        ("public_beta", 100),
    ]


def test_severity_1_feedback_during_a_ramp_halts_the_flow_and_alerts(flow_db, seeded, actor):
    slow = {"public_beta": [{"percent": 10, "hold_minutes": 60}, {"percent": 100}]}
    launch = ready_launch(seeded, actor, slug="guardrail", phases=BETAS, ramp_plan=slow)
    worker = Worker(publish_events=False)
    drain(worker, seeded, "guardrail")
    assert exposures(seeded, "guardrail") == [("private_beta", 100), ("public_beta", 10)]
    assert region_rollout(seeded, launch).state == RolloutState.ROLLING_OUT

    blocker = report(seeded, actor, launch, severity=1, text="Exports are empty")

    region = region_rollout(seeded, launch)
    assert region.state == RolloutState.HALTED
    assert f"#{blocker.id}" in region.halt_reason
    # Even once the hold is over (the clock says it is due), a halted region takes no step.
    region.next_check_at = datetime.now(UTC) - timedelta(seconds=1)
    seeded.add(region)
    seeded.commit()
    drain(worker, seeded, "guardrail")
    assert region_rollout(seeded, launch).state == RolloutState.HALTED
    assert exposures(seeded, "guardrail") == [("private_beta", 100), ("public_beta", 10)]
    alert = seeded.exec(select(Outbox).where(Outbox.topic == "beta.guardrail_halted")).one()
    assert (alert.payload["owner"], alert.payload["region"], alert.payload["percent"]) == (
        "owner@example.com",
        "EU",
        10,
    )


def test_the_weekly_digest_flow_queues_once_per_week(flow_db, seeded, actor):
    from flows.scheduled import beta_feedback_digest

    launch = ready_launch(seeded, actor, slug="digest-flow", phases=BETAS)
    report(seeded, actor, launch, severity=3, text="Slow search")

    assert beta_feedback_digest() == {"queued": True}
    assert beta_feedback_digest() == {"queued": False}
    rows = seeded.exec(select(Outbox).where(Outbox.topic == "digest.beta_weekly")).all()
    seeded.commit()
    assert len(rows) == 1
