"""Sequential and parallel waves: in a sequential launch a region waits at its gate until the regions
before it are live in the phase, in a parallel one it does not; on SQLite and PostgreSQL with the
clock frozen by freezegun."""

from datetime import timedelta

from freezegun import freeze_time

from orchestrator.core.enums import GateKind, GateStatus, Phase, RolloutState, WaveMode
from orchestrator.gates.service import wave_blockers
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.leases import due_rollout_ids
from orchestrator.rollouts.service import evaluate_rollout, mark_live, set_exposure
from orchestrator.rollouts.steps import Step, StepKind
from tests.support.db import gate_of, rollout_id
from tests.support.rollouts import START, at, go_live, now, spec_launch, step_now
from tests.support.rollouts import rollout_row as fresh

S = RolloutState


WAVE_DATES = {Phase.INTERNAL: START, Phase.PRIVATE_BETA: START + timedelta(days=1)}
WAVE_NOW = START + timedelta(days=7)  # both phase dates are past


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
