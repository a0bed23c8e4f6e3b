"""The severity-1 guardrail (orchestrator/beta/guardrail.py) on real databases: a severity-1 report in a
ramping region halts it and alerts once; outside a ramp it is recorded without halting."""

from datetime import UTC, datetime, timedelta

from sqlmodel import func, select

from orchestrator.core.enums import Phase, RolloutState
from orchestrator.core.models import AuditEvent, Outbox
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import set_exposure
from tests.support.beta import beta_launch, feedback, rollout
from tests.support.factories import phase_dates


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
