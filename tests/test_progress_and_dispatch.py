"""What a region does next, finding due work, leases, and delivering exposure changes: on SQLite
and PostgreSQL, with the clock frozen by freezegun (no threads, no sleeps).

Reads in these tests end with a commit: on SQLite every transaction begins IMMEDIATE and holds the
write lock, and the recording target writes through its own session.
"""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from flows.targets import RecordingTarget
from orchestrator.core.enums import (
    GateKind,
    GateStatus,
    LaunchStatus,
    OutboxStatus,
    Phase,
    RolloutState,
    Vote,
    WaveMode,
)
from orchestrator.core.models import ExposureChange, Gate, Launch, Outbox, Region, RegionRollout
from orchestrator.core.outbox import MAX_DELIVERY_ATTEMPTS, claim_outbox
from orchestrator.gates.approvals import cast_vote
from orchestrator.gates.service import time_gate_opening, wave_blockers
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec, RegionPlan
from orchestrator.rollouts.exposure import deliver_exposures
from orchestrator.rollouts.leases import claim_rollout, due_rollout_ids, release_rollout
from orchestrator.rollouts.ramp import MAX_HOLD_MINUTES
from orchestrator.rollouts.service import (
    TARGET_TOPIC,
    evaluate_rollout,
    halt_region,
    mark_live,
    resume_region,
    roll_back_region,
    set_exposure,
)
from orchestrator.rollouts.steps import Step, StepKind, load_snapshot, next_step, take_step
from orchestrator.rollouts.target import ExposureRequest, TargetRejected, TargetUnavailable
from tests.support.factories import make_launch

S = RolloutState
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday
OFFICE_HOURS = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}


# ---- helpers -----------------------------------------------------------------------------------


def daily_dates(start=START, phases=None):
    """One phase a day from ``start``."""
    chosen = phases or Phase.ordered()
    return {phase: start + timedelta(days=index) for index, phase in enumerate(chosen)}


def spec_launch(session, actor, *, regions, slug="acme-assistant", wave_mode=WaveMode.PARALLEL, ramp_plan=None):
    """A launch built from a LaunchSpec; ``regions`` maps region codes to phase dates."""
    spec = LaunchSpec(
        slug=slug,
        name=slug.replace("-", " ").title(),
        tier=2,
        owner="owner@example.com",
        regions=[RegionPlan(region=code, dates=dates) for code, dates in regions.items()],
        wave_mode=wave_mode,
        ramp_plan=ramp_plan or {},
    )
    return create_launch(session=session, spec=spec, actor=actor)


def rollout_id(session, launch, region="EU"):
    found = session.exec(
        select(RegionRollout.id)
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(RegionRollout.launch_id == launch.id, Region.code == region)
    ).one()
    session.commit()
    return found


def fresh(session, rid):
    row = session.exec(
        select(RegionRollout).where(RegionRollout.id == rid).execution_options(populate_existing=True)
    ).one()
    session.commit()
    return row


def launch_status(session, launch_id):
    status = session.exec(
        select(Launch.status).where(Launch.id == launch_id).execution_options(populate_existing=True)
    ).one()
    session.commit()
    return status


def snapshot(session, rid):
    snap = load_snapshot(session, rollout_id=rid)
    session.commit()
    return snap


def at(value):
    """A timestamp as the database gave it back (SQLite drops the offset), as aware UTC."""
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def now():
    return datetime.now(UTC)


def target_rows(session):
    rows = list(
        session.exec(
            select(Outbox)
            .where(Outbox.topic == TARGET_TOPIC)
            .order_by(col(Outbox.id))
            .execution_options(populate_existing=True)
        )
    )
    session.commit()
    return rows


def exposure_changes(session):
    rows = list(session.exec(select(ExposureChange).order_by(col(ExposureChange.id))))
    session.commit()
    return rows


def count(session, model):
    total = session.exec(select(func.count()).select_from(model)).one()
    session.commit()
    return total


def gate_of(session, rid, phase, kind):
    found = session.exec(
        select(Gate)
        .where(Gate.rollout_id == rid, Gate.phase == phase, Gate.kind == kind)
        .execution_options(populate_existing=True)
    ).one()
    session.commit()
    return found


def approve(session, actor, rid, phase):
    gate = gate_of(session, rid, phase, GateKind.APPROVAL)
    cast_vote(session=session, gate_id=gate.id, voter="vp@example.com", vote=Vote.GO, actor=actor)


def set_region(session, code, **values):
    region = session.exec(select(Region).where(Region.code == code)).one()
    for name, value in values.items():
        setattr(region, name, value)
    session.add(region)
    session.commit()


def step_now(session, actor, rid):
    """Take the step due now; returns it (None when nothing is due)."""
    snap = snapshot(session, rid)
    step = next_step(snap, now=now())
    if step is not None:
        take_step(session, snapshot=snap, step=step, actor=actor)
    return step


# ---- next_step over a region's life ------------------------------------------------------------

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


# ---- the time gate: freezes and rollout windows ------------------------------------------------


def test_a_freeze_keeps_a_region_gated_past_its_phase_date_and_wakes_it_at_the_next_window_start(seeded, actor):
    # Wednesday 2027-03-03 is frozen in the EU; the internal date (Monday) is long past.
    set_region(seeded, "EU", rollout_window=OFFICE_HOURS, freezes=[{"start": "2027-03-03", "end": "2027-03-03"}])
    launch = make_launch(seeded, actor, dates=daily_dates())
    rid = rollout_id(seeded, launch)
    thursday_nine_cet = datetime(2027, 3, 4, 8, 0, tzinfo=UTC)

    with freeze_time("2027-03-03 10:00:00") as frozen:  # Wednesday 11:00 CET, frozen
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)

        row = fresh(seeded, rid)
        assert (row.state, row.phase) == (S.GATED, Phase.INTERNAL)
        assert at(row.next_check_at) == thursday_nine_cet
        assert gate_of(seeded, rid, Phase.INTERNAL, GateKind.TIME).status is GateStatus.OPEN
        assert gate_of(seeded, rid, Phase.INTERNAL, GateKind.CHECKLIST).status is GateStatus.PASSED
        assert time_gate_opening(seeded, rollout=row, phase=Phase.INTERNAL, now=now()) == thursday_nine_cet
        seeded.commit()
        assert rid not in due_rollout_ids(seeded, now=now())

        # The last minute of the freeze's next morning, before the window: still gated.
        frozen.move_to(thursday_nine_cet - timedelta(minutes=1))
        assert step_now(seeded, actor, rid) is None
        evaluate_rollout(session=seeded, rollout_id=rid, actor=actor)
        assert fresh(seeded, rid).state is S.GATED
        assert rid not in due_rollout_ids(seeded, now=now())

        frozen.move_to(thursday_nine_cet)
        assert due_rollout_ids(seeded, now=now()) == [rid]
        assert step_now(seeded, actor, rid) == Step(StepKind.EVALUATE_GATES, Phase.INTERNAL)
        row = fresh(seeded, rid)
        assert (row.state, row.next_check_at) == (S.READY, None)
        assert gate_of(seeded, rid, Phase.INTERNAL, GateKind.TIME).status is GateStatus.PASSED


@pytest.mark.parametrize(
    ("kick_off_at", "opens_at"),
    [
        # Monday 19:00 CET: Tuesday 09:00 CET
        pytest.param("2027-03-01 18:00:00", datetime(2027, 3, 2, 8, 0, tzinfo=UTC), id="after-hours"),
        # Friday 18:00 CET: Monday 09:00 CET
        pytest.param("2027-03-05 17:00:00", datetime(2027, 3, 8, 8, 0, tzinfo=UTC), id="friday-evening"),
        # Friday 2027-03-26 18:00 CET: Monday 09:00 CEST (summer time began on Sunday 28th)
        pytest.param("2027-03-26 17:00:00", datetime(2027, 3, 29, 7, 0, tzinfo=UTC), id="over-a-dst-weekend"),
    ],
)
def test_a_rollout_window_outside_hours_delays_ready_until_the_window_opens(seeded, actor, kick_off_at, opens_at):
    set_region(seeded, "EU", rollout_window=OFFICE_HOURS)
    launch = make_launch(seeded, actor, dates={Phase.INTERNAL: START})  # the date is past at kickoff
    rid = rollout_id(seeded, launch)

    with freeze_time(kick_off_at) as frozen:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        row = fresh(seeded, rid)
        assert row.state is S.GATED
        assert at(row.next_check_at) == opens_at

        frozen.move_to(opens_at - timedelta(seconds=1))
        evaluate_rollout(session=seeded, rollout_id=rid, actor=actor)
        assert fresh(seeded, rid).state is S.GATED

        frozen.move_to(opens_at)
        evaluate_rollout(session=seeded, rollout_id=rid, actor=actor)
        row = fresh(seeded, rid)
        assert (row.state, row.phase, row.next_check_at) == (S.READY, Phase.INTERNAL, None)


# ---- sequential and parallel waves -------------------------------------------------------------

WAVE_DATES = {Phase.INTERNAL: START, Phase.PRIVATE_BETA: START + timedelta(days=1)}
WAVE_NOW = START + timedelta(days=7)  # both phase dates are past


def go_live(session, actor, rid, phase):
    set_exposure(session=session, rollout_id=rid, phase=phase, percent=100, actor=actor)
    mark_live(session=session, rollout_id=rid, phase=phase, actor=actor)


def test_sequential_waves_hold_a_later_region_until_the_earlier_one_is_live_in_the_phase(seeded, actor):
    # EU is listed first but APAC (rollout order 10) goes before EU (20).
    launch = spec_launch(seeded, actor, regions={"EU": WAVE_DATES, "APAC": WAVE_DATES}, wave_mode=WaveMode.SEQUENTIAL)
    eu, apac = rollout_id(seeded, launch, "EU"), rollout_id(seeded, launch, "APAC")

    with freeze_time(WAVE_NOW) as frozen:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)

        assert fresh(seeded, apac).state is S.READY
        row = fresh(seeded, eu)
        assert (row.state, row.phase, row.next_check_at) == (S.GATED, Phase.INTERNAL, None)
        # Every gate of EU's phase has passed: only the wave holds it.
        assert {gate_of(seeded, eu, Phase.INTERNAL, kind).status for kind in (GateKind.CHECKLIST, GateKind.TIME)} == {
            GateStatus.PASSED
        }
        assert wave_blockers(seeded, rollout=row, phase=Phase.INTERNAL) == ["APAC"]
        seeded.commit()
        assert due_rollout_ids(seeded, now=now()) == [apac]

        # APAC at 100% but not yet live: EU still waits.
        set_exposure(session=seeded, rollout_id=apac, phase=Phase.INTERNAL, percent=100, actor=actor)
        evaluate_rollout(session=seeded, rollout_id=eu, actor=actor)
        assert fresh(seeded, eu).state is S.GATED

        frozen.tick(timedelta(minutes=5))
        mark_live(session=seeded, rollout_id=apac, phase=Phase.INTERNAL, actor=actor)
        assert at(fresh(seeded, eu).next_check_at) == now()
        assert eu in due_rollout_ids(seeded, now=now())
        assert step_now(seeded, actor, eu) == Step(StepKind.EVALUATE_GATES, Phase.INTERNAL)
        assert fresh(seeded, eu).state is S.READY

        # Next phase, EU first this time: it waits for APAC again.
        go_live(seeded, actor, eu, Phase.INTERNAL)
        assert step_now(seeded, actor, eu) == Step(StepKind.ADVANCE, Phase.INTERNAL)
        row = fresh(seeded, eu)
        assert (row.state, row.phase) == (S.GATED, Phase.PRIVATE_BETA)
        assert wave_blockers(seeded, rollout=row, phase=Phase.PRIVATE_BETA) == ["APAC"]
        seeded.commit()
        assert step_now(seeded, actor, eu) is None

        assert step_now(seeded, actor, apac) == Step(StepKind.ADVANCE, Phase.INTERNAL)
        assert fresh(seeded, apac).state is S.READY
        assert fresh(seeded, eu).state is S.GATED  # APAC is ready, not live

        frozen.tick(timedelta(minutes=5))
        go_live(seeded, actor, apac, Phase.PRIVATE_BETA)  # APAC's last phase
        assert fresh(seeded, apac).next_check_at is None
        assert at(fresh(seeded, eu).next_check_at) == now()
        assert due_rollout_ids(seeded, now=now()) == [eu]
        assert step_now(seeded, actor, eu) == Step(StepKind.EVALUATE_GATES, Phase.PRIVATE_BETA)
        assert fresh(seeded, eu).state is S.READY


def test_parallel_waves_do_not_wait_for_earlier_regions(seeded, actor):
    launch = spec_launch(seeded, actor, regions={"EU": WAVE_DATES, "APAC": WAVE_DATES}, wave_mode=WaveMode.PARALLEL)
    eu, apac = rollout_id(seeded, launch, "EU"), rollout_id(seeded, launch, "APAC")

    with freeze_time(WAVE_NOW):
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)

        assert (fresh(seeded, eu).state, fresh(seeded, apac).state) == (S.READY, S.READY)
        assert wave_blockers(seeded, rollout=fresh(seeded, eu), phase=Phase.INTERNAL) == []
        seeded.commit()
        assert sorted(due_rollout_ids(seeded, now=now())) == sorted([eu, apac])

        # EU runs ahead into the next phase while APAC has not even started.
        go_live(seeded, actor, eu, Phase.INTERNAL)
        assert step_now(seeded, actor, eu) == Step(StepKind.ADVANCE, Phase.INTERNAL)
        row = fresh(seeded, eu)
        assert (row.state, row.phase) == (S.READY, Phase.PRIVATE_BETA)
        assert fresh(seeded, apac).state is S.READY


# ---- due work and leases -----------------------------------------------------------------------

HELD_PLAN = {"internal": [{"percent": 10, "hold_minutes": 60}, {"percent": 100}]}


def test_due_rollout_ids_returns_ready_and_clock_due_rollouts(seeded, actor):
    now_launch = spec_launch(
        seeded, actor, regions={"EU": {Phase.INTERNAL: START}, "NA": {Phase.INTERNAL: START}}, ramp_plan=HELD_PLAN
    )
    later_launch = make_launch(seeded, actor, slug="later-launch", dates={Phase.INTERNAL: START + timedelta(hours=2)})
    ready, holding = rollout_id(seeded, now_launch, "EU"), rollout_id(seeded, now_launch, "NA")
    gated = rollout_id(seeded, later_launch, "EU")

    with freeze_time(START) as frozen:
        kick_off_launch(session=seeded, launch_id=now_launch.id, actor=actor)
        kick_off_launch(session=seeded, launch_id=later_launch.id, actor=actor)
        set_exposure(session=seeded, rollout_id=holding, phase=Phase.INTERNAL, percent=10, actor=actor)

        assert due_rollout_ids(seeded, now=now()) == [ready]

        frozen.move_to(START + timedelta(hours=1))  # NA's hold ends
        assert sorted(due_rollout_ids(seeded, now=now())) == sorted([ready, holding])

        frozen.move_to(START + timedelta(hours=2))  # the later launch's phase date
        assert sorted(due_rollout_ids(seeded, now=now())) == sorted([ready, holding, gated])
        assert len(due_rollout_ids(seeded, now=now(), limit=1)) == 1
        assert len(due_rollout_ids(seeded, now=now(), limit=2)) == 2


def test_due_rollout_ids_skips_halted_regions_and_launches_that_are_not_active(seeded, actor):
    active = spec_launch(
        seeded, actor, regions={"EU": {Phase.INTERNAL: START}, "NA": {Phase.INTERNAL: START}}, ramp_plan=HELD_PLAN
    )
    draft = make_launch(seeded, actor, slug="draft-launch", dates={Phase.INTERNAL: START})
    cancelled = make_launch(seeded, actor, slug="cancelled-launch", dates={Phase.INTERNAL: START})
    ready, halted = rollout_id(seeded, active, "EU"), rollout_id(seeded, active, "NA")
    cancelled_ready = rollout_id(seeded, cancelled, "EU")

    with freeze_time(START) as frozen:
        kick_off_launch(session=seeded, launch_id=active.id, actor=actor)
        kick_off_launch(session=seeded, launch_id=cancelled.id, actor=actor)
        set_exposure(session=seeded, rollout_id=halted, phase=Phase.INTERNAL, percent=10, actor=actor)
        halt_region(session=seeded, rollout_id=halted, actor=actor, reason="error rate")
        assert fresh(seeded, cancelled_ready).state is S.READY
        # No service cancels a launch yet; set the status the way one would.
        seeded.exec(update(Launch).where(col(Launch.id) == cancelled.id).values(status=LaunchStatus.CANCELLED))
        seeded.commit()

        frozen.move_to(START + timedelta(days=1))  # long past the halted region's hold
        halted_row = fresh(seeded, halted)
        assert halted_row.state is S.HALTED
        assert at(halted_row.next_check_at) < now()
        assert launch_status(seeded, draft.id) is LaunchStatus.DRAFT

        assert due_rollout_ids(seeded, now=now()) == [ready]


def test_due_rollout_ids_skips_a_region_whose_lease_has_not_expired(seeded, actor):
    launch = make_launch(seeded, actor, regions=("EU", "NA"), dates={Phase.INTERNAL: START})
    eu, na = rollout_id(seeded, launch, "EU"), rollout_id(seeded, launch, "NA")
    with freeze_time(START) as frozen:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        assert claim_rollout(seeded, rollout_id=eu, owner="worker-a", now=now(), seconds=60)

        assert due_rollout_ids(seeded, now=now()) == [na]
        frozen.tick(timedelta(seconds=60))  # the lease runs until exactly now: still held
        assert due_rollout_ids(seeded, now=now()) == [na]
        frozen.tick(timedelta(seconds=1))
        assert sorted(due_rollout_ids(seeded, now=now())) == sorted([eu, na])


@pytest.fixture
def workers(engine):
    """Two workers, each with its own session, as in production."""
    with Session(engine, expire_on_commit=False) as a, Session(engine, expire_on_commit=False) as b:
        yield a, b


def lease(engine, rid):
    """(owner, until, version) of a region's lease, read through a session of its own."""
    with Session(engine) as reader:
        row = reader.get(RegionRollout, rid)
        assert row is not None
        return row.lease_owner, at(row.lease_until), row.version


def test_claim_rollout_refuses_a_second_owner_while_the_lease_holds_and_allows_it_after(engine, seeded, actor, workers):
    launch = make_launch(seeded, actor, dates={Phase.INTERNAL: START})
    rid = rollout_id(seeded, launch)
    a, b = workers
    t0 = START + timedelta(days=1)

    assert claim_rollout(a, rollout_id=rid, owner="worker-a", now=t0, seconds=30) is True
    assert claim_rollout(b, rollout_id=rid, owner="worker-b", now=t0 + timedelta(seconds=29), seconds=30) is False
    assert claim_rollout(b, rollout_id=rid, owner="worker-b", now=t0 + timedelta(seconds=30), seconds=30) is False
    assert lease(engine, rid)[:2] == ("worker-a", t0 + timedelta(seconds=30))

    assert claim_rollout(b, rollout_id=rid, owner="worker-b", now=t0 + timedelta(seconds=31), seconds=30) is True
    assert lease(engine, rid)[:2] == ("worker-b", t0 + timedelta(seconds=61))
    assert claim_rollout(a, rollout_id=rid, owner="worker-a", now=t0 + timedelta(seconds=32), seconds=30) is False


def test_claim_rollout_lets_the_same_owner_reclaim_and_extend_its_lease(engine, seeded, actor, workers):
    launch = make_launch(seeded, actor, dates={Phase.INTERNAL: START})
    rid = rollout_id(seeded, launch)
    a, b = workers
    t0 = START + timedelta(days=1)

    assert claim_rollout(a, rollout_id=rid, owner="worker-a", now=t0, seconds=30) is True
    assert claim_rollout(a, rollout_id=rid, owner="worker-a", now=t0 + timedelta(seconds=10), seconds=30) is True

    assert lease(engine, rid)[:2] == ("worker-a", t0 + timedelta(seconds=40))
    # The extension counts: at t0 + 35 s the first lease would have expired, the renewed one has not.
    assert claim_rollout(b, rollout_id=rid, owner="worker-b", now=t0 + timedelta(seconds=35), seconds=30) is False


def test_release_rollout_frees_the_lease_only_for_its_owner(engine, seeded, actor, workers):
    launch = make_launch(seeded, actor, dates={Phase.INTERNAL: START})
    rid = rollout_id(seeded, launch)
    a, b = workers
    version = lease(engine, rid)[2]
    t0 = START + timedelta(days=1)
    assert claim_rollout(a, rollout_id=rid, owner="worker-a", now=t0, seconds=300) is True

    release_rollout(b, rollout_id=rid, owner="worker-b")
    assert lease(engine, rid)[:2] == ("worker-a", t0 + timedelta(seconds=300))
    assert claim_rollout(b, rollout_id=rid, owner="worker-b", now=t0, seconds=300) is False

    release_rollout(a, rollout_id=rid, owner="worker-a")
    assert lease(engine, rid) == (None, None, version)  # leases are scheduling data: no version bump
    assert claim_rollout(b, rollout_id=rid, owner="worker-b", now=t0, seconds=300) is True


def test_a_worker_that_has_taken_a_step_can_renew_its_lease(engine, seeded, actor):
    launch = make_launch(seeded, actor, dates={Phase.INTERNAL: START})
    rid = rollout_id(seeded, launch)

    with freeze_time(START + timedelta(days=1)), Session(engine, expire_on_commit=False) as worker:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        t0 = now()
        assert claim_rollout(worker, rollout_id=rid, owner="worker-a", now=t0, seconds=120) is True
        snap = load_snapshot(worker, rollout_id=rid)
        rollout = take_step(worker, snapshot=snap, step=next_step(snap, now=t0), actor=actor)
        assert (rollout.state, rollout.lease_owner) == (S.ROLLING_OUT, "worker-a")

        renewed = claim_rollout(worker, rollout_id=rid, owner="worker-a", now=t0 + timedelta(seconds=60), seconds=120)

    assert renewed is True
    assert lease(engine, rid)[:2] == ("worker-a", t0 + timedelta(seconds=180))


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
        # Rolling back again is a no-op: no second zero row.
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


# ---- a No-Go's re-evaluation date wakes the region once ---------------------------------------------


def test_a_no_go_wakes_the_region_on_its_reevaluation_date_and_says_so_once(seeded, actor):
    launch = spec_launch(seeded, actor, regions={"EU": {Phase.GA: START}})
    rid = rollout_id(seeded, launch)
    later = START + timedelta(days=3)
    with freeze_time(START + timedelta(hours=1)):
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        gate = gate_of(seeded, rid, Phase.GA, GateKind.APPROVAL)
        cast_vote(
            session=seeded, gate_id=gate.id, voter="vp@example.com", vote=Vote.NO_GO, actor=actor, reevaluate_at=later
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
