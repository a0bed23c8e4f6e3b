"""The time gate with freezes and rollout windows: a region stays gated past its phase date until
its region's window opens (and wakes then), on SQLite and PostgreSQL with the clock frozen by
freezegun."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import select

from orchestrator.core.enums import GateKind, GateStatus, Phase, RolloutState
from orchestrator.core.models import Region
from orchestrator.gates.service import time_gate_opening
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.leases import due_rollout_ids
from orchestrator.rollouts.service import evaluate_rollout
from orchestrator.rollouts.steps import Step, StepKind
from tests.support.db import gate_of, rollout_id
from tests.support.factories import make_launch
from tests.support.rollouts import START, at, daily_dates, now, step_now
from tests.support.rollouts import rollout_row as fresh

S = RolloutState


OFFICE_HOURS = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}


def set_region(session, code, **values):
    region = session.exec(select(Region).where(Region.code == code)).one()
    for name, value in values.items():
        setattr(region, name, value)
    session.add(region)
    session.commit()


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
