"""What a region does next (rollouts/steps.py): the step due at each point of a region's life, taken
one at a time on SQLite and PostgreSQL with the clock frozen by freezegun (no threads, no sleeps),
and a No-Go's re-evaluation date waking the region once."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from orchestrator.core.enums import GateKind, LaunchStatus, OutboxStatus, Phase, RolloutState, Vote
from orchestrator.core.models import ExposureChange, Outbox
from orchestrator.gates.approvals import cast_vote
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.leases import due_rollout_ids
from orchestrator.rollouts.ramp import MAX_HOLD_MINUTES
from orchestrator.rollouts.service import halt_region, set_exposure
from orchestrator.rollouts.steps import Step, StepKind, next_step, take_step
from tests.support.db import gate_of, rollout_id
from tests.support.rollouts import (
    START,
    approve,
    at,
    count,
    daily_dates,
    launch_status,
    now,
    snapshot,
    spec_launch,
    step_now,
    target_rows,
)
from tests.support.rollouts import rollout_row as fresh

S = RolloutState


TWO_PHASE_PLAN = {"ga": [{"percent": 5, "hold_minutes": 60}, {"percent": 100}]}


def test_next_step_through_a_regions_whole_life(seeded, actor):
    dates = {Phase.INTERNAL: START, Phase.GA: START + timedelta(days=2)}
    launch = spec_launch(seeded, actor, regions={"EU": dates}, ramp_plan=TWO_PHASE_PLAN)
    rid = rollout_id(seeded, launch)

    with freeze_time(START - timedelta(hours=1)) as frozen:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)

        # GATED, waiting for the phase date: nothing due before it, the gate check at it.
        snap = snapshot(seeded, rid)
        assert (snap.state, snap.phase, snap.next_check_at) == (S.GATED, Phase.INTERNAL, START)
        assert next_step(snap, now=now()) is None
        assert next_step(snap, now=START - timedelta(seconds=1)) is None
        assert next_step(snap, now=START) == Step(StepKind.EVALUATE_GATES, Phase.INTERNAL)

        frozen.move_to(START)
        take_step(seeded, snapshot=snap, step=next_step(snap, now=now()), actor=actor)

        # READY: the first ramp step of the phase (internal uses the default: 100% at once).
        snap = snapshot(seeded, rid)
        assert snap.state is S.READY
        assert next_step(snap, now=now()) == Step(StepKind.RAMP, Phase.INTERNAL, 100)
        take_step(seeded, snapshot=snap, step=next_step(snap, now=now()), actor=actor)

        # ROLLING_OUT at 100%: go live.
        snap = snapshot(seeded, rid)
        assert (snap.state, snap.percent) == (S.ROLLING_OUT, 100)
        assert next_step(snap, now=now()) == Step(StepKind.GO_LIVE, Phase.INTERNAL)
        take_step(seeded, snapshot=snap, step=next_step(snap, now=now()), actor=actor)

        # LIVE in a phase that is not the last: advance.
        snap = snapshot(seeded, rid)
        assert (snap.state, snap.in_last_phase) == (S.LIVE, False)
        assert next_step(snap, now=now()) == Step(StepKind.ADVANCE, Phase.INTERNAL)
        take_step(seeded, snapshot=snap, step=next_step(snap, now=now()), actor=actor)

        # GATED in GA until its date (and its go/no-go vote).
        snap = snapshot(seeded, rid)
        assert (snap.state, snap.phase, snap.next_check_at) == (S.GATED, Phase.GA, dates[Phase.GA])
        assert next_step(snap, now=now()) is None
        approve(seeded, actor, rid, Phase.GA)
        frozen.move_to(dates[Phase.GA])
        assert step_now(seeded, actor, rid) == Step(StepKind.EVALUATE_GATES, Phase.GA)

        snap = snapshot(seeded, rid)
        assert snap.state is S.READY
        assert next_step(snap, now=now()) == Step(StepKind.RAMP, Phase.GA, 5)
        take_step(seeded, snapshot=snap, step=next_step(snap, now=now()), actor=actor)

        # ROLLING_OUT at 5%: held for 60 minutes, then the next step.
        ramped_at = now()
        snap = snapshot(seeded, rid)
        assert (snap.state, snap.percent, snap.next_check_at) == (S.ROLLING_OUT, 5, ramped_at + timedelta(hours=1))
        assert next_step(snap, now=ramped_at) is None
        assert next_step(snap, now=ramped_at + timedelta(minutes=59, seconds=59)) is None
        assert next_step(snap, now=ramped_at + timedelta(hours=1)) == Step(StepKind.RAMP, Phase.GA, 100)

        frozen.move_to(ramped_at + timedelta(hours=1))
        assert step_now(seeded, actor, rid) == Step(StepKind.RAMP, Phase.GA, 100)
        assert step_now(seeded, actor, rid) == Step(StepKind.GO_LIVE, Phase.GA)

        # LIVE in the last phase: nothing more, ever.
        snap = snapshot(seeded, rid)
        assert (snap.state, snap.in_last_phase, snap.launch_active) == (S.LIVE, True, False)
        assert next_step(snap, now=now()) is None
        assert next_step(snap, now=now() + timedelta(days=365)) is None
    assert launch_status(seeded, launch.id) is LaunchStatus.COMPLETED


def test_next_step_is_none_for_a_halted_region_even_when_its_hold_has_ended(seeded, actor):
    launch = spec_launch(seeded, actor, regions={"EU": {Phase.GA: START}}, ramp_plan=TWO_PHASE_PLAN)
    rid = rollout_id(seeded, launch)
    with freeze_time(START) as frozen:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        approve(seeded, actor, rid, Phase.GA)
        set_exposure(session=seeded, rollout_id=rid, phase=Phase.GA, percent=5, actor=actor)
        halt_region(session=seeded, rollout_id=rid, actor=actor, reason="error rate")
        frozen.move_to(START + timedelta(hours=2))

        snap = snapshot(seeded, rid)
        assert snap.state is S.HALTED
        assert next_step(snap, now=now()) is None


def test_driving_a_region_through_all_four_phases_completes_the_launch_and_queues_one_target_row_per_step(
    seeded, actor
):
    plan = {
        "public_beta": [{"percent": 10, "hold_minutes": 30}, {"percent": 100}],
        "ga": [{"percent": 5, "hold_minutes": 60}, {"percent": 25, "hold_minutes": 120}, {"percent": 100}],
    }
    dates = daily_dates()
    launch = spec_launch(seeded, actor, regions={"EU": dates}, ramp_plan=plan)
    rid = rollout_id(seeded, launch)

    taken = []
    votes = []
    with freeze_time(START - timedelta(hours=1)) as frozen:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        for _ in range(60):
            snap = snapshot(seeded, rid)
            step = next_step(snap, now=now())
            if step is not None:
                taken.append((now(), step.kind, step.phase, step.percent))
                take_step(seeded, snapshot=snap, step=step, actor=actor)
            elif not snap.launch_active:
                break
            elif snap.next_check_at is not None:
                assert snap.next_check_at > now()
                frozen.move_to(snap.next_check_at)
            else:  # waiting on people: here only GA's go/no-go vote
                assert (snap.state, snap.phase) == (S.GATED, Phase.GA)
                votes.append(snap.phase)
                approve(seeded, actor, rid, snap.phase)
        else:
            pytest.fail("the region did not finish within 60 steps")

    E, R, L, A = StepKind.EVALUATE_GATES, StepKind.RAMP, StepKind.GO_LIVE, StepKind.ADVANCE  # noqa: N806
    internal, private, public, ga = (dates[p] for p in Phase.ordered())
    assert taken == [
        (internal, E, Phase.INTERNAL, None),
        (internal, R, Phase.INTERNAL, 100),
        (internal, L, Phase.INTERNAL, None),
        (internal, A, Phase.INTERNAL, None),
        (private, E, Phase.PRIVATE_BETA, None),
        (private, R, Phase.PRIVATE_BETA, 100),
        (private, L, Phase.PRIVATE_BETA, None),
        (private, A, Phase.PRIVATE_BETA, None),
        (public, E, Phase.PUBLIC_BETA, None),
        (public, R, Phase.PUBLIC_BETA, 10),
        (public + timedelta(minutes=30), R, Phase.PUBLIC_BETA, 100),
        (public + timedelta(minutes=30), L, Phase.PUBLIC_BETA, None),
        (public + timedelta(minutes=30), A, Phase.PUBLIC_BETA, None),
        (ga, E, Phase.GA, None),  # passes the time gate; the go/no-go vote then makes it ready
        (ga, R, Phase.GA, 5),
        (ga + timedelta(hours=1), R, Phase.GA, 25),
        (ga + timedelta(hours=3), R, Phase.GA, 100),
        (ga + timedelta(hours=3), L, Phase.GA, None),
    ]
    assert votes == [Phase.GA]
    assert launch_status(seeded, launch.id) is LaunchStatus.COMPLETED
    row = fresh(seeded, rid)
    assert (row.state, row.phase, row.percent, row.next_check_at) == (S.LIVE, Phase.GA, 100, None)

    rows = target_rows(seeded)
    assert [(r.payload["phase"], r.payload["percent"]) for r in rows] == [
        ("internal", 100),
        ("private_beta", 100),
        ("public_beta", 10),
        ("public_beta", 100),
        ("ga", 5),
        ("ga", 25),
        ("ga", 100),
    ]
    assert len({r.key for r in rows}) == len(rows)
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert {r.payload["rollout_id"] for r in rows} == {rid}
    assert count(seeded, ExposureChange) == 0  # queued only: nothing delivered yet


def test_a_ramp_plan_that_validates_can_be_ramped(seeded, actor):
    plan = {"internal": [{"percent": 50, "hold_minutes": MAX_HOLD_MINUTES}, {"percent": 100}]}
    launch = spec_launch(seeded, actor, regions={"EU": {Phase.INTERNAL: START}}, ramp_plan=plan)
    rid = rollout_id(seeded, launch)
    with freeze_time(START):
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)

        assert step_now(seeded, actor, rid) == Step(StepKind.RAMP, Phase.INTERNAL, 50)

    assert fresh(seeded, rid).percent == 50


# ---- a No-Go's re-evaluation date wakes the region once ---------------------------------------------


def test_a_no_go_wakes_the_region_on_its_reevaluation_date_and_says_so_once(seeded, actor):
    launch = spec_launch(seeded, actor, regions={"EU": {Phase.GA: START}})
    rid = rollout_id(seeded, launch)
    later = START + timedelta(days=3)
    with freeze_time(START + timedelta(hours=1)):
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        gate = gate_of(seeded, rid, Phase.GA, GateKind.APPROVAL)
        cast_vote(
            session=seeded,
            gate_id=gate.id,
            on_behalf_of="vp@example.com",
            on_behalf_reason="go/no-go meeting",
            vote=Vote.NO_GO,
            actor=actor,
            reevaluate_at=later,
        )
        assert at(fresh(seeded, rid).next_check_at) == later
        assert rid not in due_rollout_ids(seeded, now=now())
    with freeze_time(later + timedelta(minutes=1)):
        assert rid in due_rollout_ids(seeded, now=now())
        assert step_now(seeded, actor, rid) == Step(StepKind.EVALUATE_GATES, Phase.GA)
        step_now(seeded, actor, rid)  # nothing due any more: no second announcement
        rows = seeded.exec(select(Outbox).where(Outbox.topic == "decision.reevaluation_due")).all()
        seeded.commit()
        assert len(rows) == 1
        assert rows[0].payload["rollout_id"] == rid
        assert fresh(seeded, rid).state == RolloutState.GATED  # still No-Go: the gate holds
        assert rid not in due_rollout_ids(seeded, now=now())
