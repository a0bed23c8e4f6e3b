"""Finding due work and leasing it (rollouts/leases.py): which regions are due now, and a worker's
lease on a region that no other worker takes until it runs out; on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import update
from sqlmodel import Session, col

from orchestrator.core.enums import LaunchStatus, Phase, RolloutState
from orchestrator.core.models import Launch, RegionRollout
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.leases import claim_rollout, due_rollout_ids, release_rollout
from orchestrator.rollouts.service import halt_region, set_exposure
from orchestrator.rollouts.steps import load_snapshot, next_step, take_step
from tests.support.db import rollout_id
from tests.support.factories import make_launch
from tests.support.rollouts import START, at, launch_status, now, spec_launch
from tests.support.rollouts import rollout_row as fresh

S = RolloutState


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
