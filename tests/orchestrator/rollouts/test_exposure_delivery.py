"""Delivering exposure changes (rollouts/exposure.py): each queued target row reaches the rollout
target once and in order, an unavailable target is retried with backoff until the row is dead, a
rejecting one makes it dead at once; on SQLite and PostgreSQL with the clock frozen by freezegun."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import col, select

from flows.targets import RecordingTarget
from orchestrator.core.enums import OutboxStatus, Phase, RolloutState
from orchestrator.core.errors import AlreadyInState
from orchestrator.core.models import ExposureChange, Outbox
from orchestrator.core.outbox import MAX_DELIVERY_ATTEMPTS, claim_outbox, retry_dead
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.exposure import deliver_exposures
from orchestrator.rollouts.service import TARGET_TOPIC, resume_region, roll_back_region, set_exposure
from orchestrator.rollouts.steps import Step, StepKind
from orchestrator.rollouts.target import ExposureRequest, TargetRejected, TargetUnavailable
from tests.support.db import rollout_id
from tests.support.rollouts import START, at, count, now, spec_launch, step_now, target_rows
from tests.support.rollouts import rollout_row as fresh

S = RolloutState


def exposure_changes(session):
    rows = list(session.exec(select(ExposureChange).order_by(col(ExposureChange.id))))
    session.commit()
    return rows


# ---- delivering exposure changes ---------------------------------------------------------------

THREE_STEPS = {"internal": [{"percent": 10}, {"percent": 50}, {"percent": 100}]}


def ramped_launch(session, actor, *, plan=THREE_STEPS, percents=(10, 50, 100)):
    """An EU launch ramped through ``percents`` of internal at START (the clock must be frozen)."""
    launch = spec_launch(session, actor, regions={"EU": {Phase.INTERNAL: START}}, ramp_plan=plan)
    rid = rollout_id(session, launch)
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    for percent in percents:
        set_exposure(session=session, rollout_id=rid, phase=Phase.INTERNAL, percent=percent, actor=actor)
    return launch, rid


class FailingTarget:
    """A rollout target that always raises ``error``, counting its calls."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name = name
        self.error = error
        self.requests: list[ExposureRequest] = []

    def apply(self, request: ExposureRequest) -> None:
        self.requests.append(request)
        raise self.error


def test_deliver_exposures_hands_each_target_row_to_the_recording_target_once(engine, seeded, actor):
    with freeze_time(START):
        launch, rid = ramped_launch(seeded, actor)
        target = RecordingTarget(engine)
        other_topics_before = [
            (r.topic, r.status) for r in seeded.exec(select(Outbox).where(Outbox.topic != TARGET_TOPIC))
        ]
        seeded.commit()

        assert deliver_exposures(session=seeded, target=target, now=now()) == 3

        rows = target_rows(seeded)
        assert [(r.status, at(r.delivered_at), r.attempts) for r in rows] == [(OutboxStatus.SENT, START, 0)] * 3
        changes = exposure_changes(seeded)
        assert [(c.rollout_id, c.launch_slug, c.region, c.phase, c.percent) for c in changes] == [
            (rid, launch.slug, "EU", Phase.INTERNAL, 10),
            (rid, launch.slug, "EU", Phase.INTERNAL, 50),
            (rid, launch.slug, "EU", Phase.INTERNAL, 100),
        ]
        assert [c.idempotency_key for c in changes] == [r.key for r in rows]

        # A second run finds nothing to do.
        assert deliver_exposures(session=seeded, target=target, now=now() + timedelta(hours=1)) == 0
        assert count(seeded, ExposureChange) == 3
        # Only the target's topic is touched.
        assert [
            (r.topic, r.status) for r in seeded.exec(select(Outbox).where(Outbox.topic != TARGET_TOPIC))
        ] == other_topics_before
        seeded.commit()


def test_a_row_delivered_again_after_a_crash_is_recorded_once(engine, seeded, actor):
    with freeze_time(START):
        _, rid = ramped_launch(seeded, actor, percents=(10,))
        target = RecordingTarget(engine)
        assert deliver_exposures(session=seeded, target=target, now=now()) == 1
        # A worker that crashed after the target took the change but before marking it sent: the
        # row is still pending, and claimed until its claim (60 s) runs out.
        seeded.exec(update(Outbox).where(col(Outbox.topic) == TARGET_TOPIC).values(status=OutboxStatus.PENDING))
        seeded.commit()
        assert deliver_exposures(session=seeded, target=target, now=now() + timedelta(seconds=59)) == 0

        assert deliver_exposures(session=seeded, target=target, now=now() + timedelta(seconds=61)) == 1

        assert [(c.rollout_id, c.percent) for c in exposure_changes(seeded)] == [(rid, 10)]
        assert [r.status for r in target_rows(seeded)] == [OutboxStatus.SENT]


def test_a_change_held_by_a_killed_worker_is_not_overtaken_by_a_later_one(engine, seeded, actor):
    """The 10% step is claimed by a worker that dies; the 50% and 100% steps wait for it, so the
    target sees 10, 50, 100 in order once the claim runs out, never a stale 10% last."""
    with freeze_time(START):
        _, rid = ramped_launch(seeded, actor)
        target = RecordingTarget(engine)
        claim_outbox(seeded, topics=[TARGET_TOPIC], now=now(), limit=1, claim_seconds=60)  # then killed

        assert deliver_exposures(session=seeded, target=target, now=now() + timedelta(seconds=1)) == 0
        assert exposure_changes(seeded) == []

        assert deliver_exposures(session=seeded, target=target, now=now() + timedelta(seconds=61)) == 3
        assert [(c.rollout_id, c.percent) for c in exposure_changes(seeded)] == [(rid, 10), (rid, 50), (rid, 100)]


def test_a_parked_change_sent_again_after_a_later_one_went_through_is_not_applied(engine, seeded, actor):
    """10% is parked (the target refused it), 50% supersedes it and reaches the target; sending the
    dead 10% again by hand must not set the target back to 10%: it is parked again, saying why."""
    with freeze_time(START):
        _, rid = ramped_launch(seeded, actor, percents=(10, 50))
        refusing = FailingTarget("recording", TargetRejected("flag archived"))
        deliver_exposures(session=seeded, target=refusing, now=now(), limit=1)  # only the 10% row
        assert deliver_exposures(session=seeded, target=RecordingTarget(engine), now=now()) == 1  # 50%

        assert retry_dead(seeded, outbox_ids=None, now=now(), actor=actor) == 1
        assert deliver_exposures(session=seeded, target=RecordingTarget(engine), now=now()) == 0

        assert [(c.rollout_id, c.percent) for c in exposure_changes(seeded)] == [(rid, 50)]
        ten, fifty = target_rows(seeded)
        assert (ten.status, fifty.status) == (OutboxStatus.DEAD, OutboxStatus.SENT)
        assert ten.last_error.startswith(
            f"recording: not sent: EU internal 10% was superseded by a later change (internal 50%, outbox #{fifty.id})"
        )
        assert len(refusing.requests) == 1


def test_an_unavailable_target_leaves_the_row_pending_with_backoff_until_it_is_dead(seeded, actor):
    with freeze_time(START):
        ramped_launch(seeded, actor, plan={}, percents=(100,))  # one row: internal 100%
    target = FailingTarget("flaky", TargetUnavailable("connection refused"))
    now_at = START + timedelta(minutes=1)

    assert deliver_exposures(session=seeded, target=target, now=now_at) == 0

    [row] = target_rows(seeded)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 1, "flaky: connection refused")
    assert at(row.next_attempt_at) == now_at + timedelta(seconds=2)
    assert row.delivered_at is None
    assert len(target.requests) == 1
    assert target.requests[0].idempotency_key == row.key

    # Not due again until its backoff ends.
    assert deliver_exposures(session=seeded, target=target, now=now_at + timedelta(seconds=1)) == 0
    assert len(target.requests) == 1

    for attempt in range(2, MAX_DELIVERY_ATTEMPTS + 1):
        now_at += timedelta(minutes=10)
        assert deliver_exposures(session=seeded, target=target, now=now_at) == 0
        [row] = target_rows(seeded)
        assert row.attempts == attempt
        if attempt < MAX_DELIVERY_ATTEMPTS:
            assert row.status is OutboxStatus.PENDING
            assert at(row.next_attempt_at) == now_at + timedelta(seconds=min(2**attempt, 300))

    assert (row.status, row.attempts) == (OutboxStatus.DEAD, MAX_DELIVERY_ATTEMPTS)
    assert len(target.requests) == MAX_DELIVERY_ATTEMPTS
    # A dead row is never tried again.
    assert deliver_exposures(session=seeded, target=target, now=now_at + timedelta(days=1)) == 0
    assert len(target.requests) == MAX_DELIVERY_ATTEMPTS


def test_a_rejecting_target_makes_the_row_dead_at_once(seeded, actor):
    with freeze_time(START):
        ramped_launch(seeded, actor, plan={}, percents=(100,))
    target = FailingTarget("strict", TargetRejected("unknown flag acme-assistant"))

    assert deliver_exposures(session=seeded, target=target, now=START) == 0

    [row] = target_rows(seeded)
    assert (row.status, row.attempts, row.delivered_at) == (OutboxStatus.DEAD, 1, None)
    assert row.last_error == "strict: unknown flag acme-assistant"
    assert deliver_exposures(session=seeded, target=target, now=START + timedelta(days=1)) == 0
    assert len(target.requests) == 1


def test_roll_back_queues_a_zero_row_and_a_re_ramp_after_resume_queues_new_keys(engine, seeded, actor):
    with freeze_time(START):
        _, rid = ramped_launch(seeded, actor, percents=(10, 50))
        first_keys = [r.key for r in target_rows(seeded)]

        roll_back_region(session=seeded, rollout_id=rid, actor=actor, reason="error budget burn")
        rows = target_rows(seeded)
        assert [(r.payload["phase"], r.payload["percent"]) for r in rows] == [
            ("internal", 10),
            ("internal", 50),
            ("internal", 0),
        ]
        assert (fresh(seeded, rid).state, fresh(seeded, rid).percent) == (S.ROLLED_BACK, 0)
        # Rolling back again is refused (AlreadyInState): no second zero row.
        with pytest.raises(AlreadyInState):
            roll_back_region(session=seeded, rollout_id=rid, actor=actor, reason="error budget burn")
        assert len(target_rows(seeded)) == 3

        resume_region(session=seeded, rollout_id=rid, actor=actor, reason="fixed")
        assert fresh(seeded, rid).state is S.READY
        assert step_now(seeded, actor, rid) == Step(StepKind.RAMP, Phase.INTERNAL, 10)
        assert step_now(seeded, actor, rid) == Step(StepKind.RAMP, Phase.INTERNAL, 50)

        rows = target_rows(seeded)
        assert [r.payload["percent"] for r in rows] == [10, 50, 0, 10, 50]
        assert len({r.key for r in rows}) == 5
        assert not {r.key for r in rows[3:]} & set(first_keys)

        assert deliver_exposures(session=seeded, target=RecordingTarget(engine), now=now()) == 5
        assert [c.percent for c in exposure_changes(seeded)] == [10, 50, 0, 10, 50]


def test_rolling_back_a_region_that_never_ramped_queues_no_target_row(seeded, actor):
    with freeze_time(START):
        _, rid = ramped_launch(seeded, actor, percents=())
        assert fresh(seeded, rid).state is S.READY

        roll_back_region(session=seeded, rollout_id=rid, actor=actor, reason="not yet")

        assert fresh(seeded, rid).state is S.ROLLED_BACK
        assert target_rows(seeded) == []
