"""The Prefect server killed mid-rollout (issue #21): gates still pass, because the database decides
them, and the rollout carries on when Prefect is back, every step once and in order.

The suite's Prefect server is shared by every test process, so this test starts a Prefect server
of its own (from the migrated database template the suite caches) and a real worker process on
it. EU is between two ramp steps and NA waits at its GA checklist gate when the server is killed
(SIGKILL). While it is down, NA's last item is checked off: its gate passes at once. EU's next step
falls due and must wait. The server is started again on the same home and port after
``LAUNCHDECK_CHAOS_PREFECT_OUTAGE_S`` seconds (15 by default; 120 is the issue's two minutes).
"""

import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from orchestrator.core.enums import GateKind, GateStatus, LaunchStatus, Phase
from orchestrator.core.models import ChecklistItem, Gate, Launch, Region, RegionRollout
from orchestrator.items.service import check_item
from tests.support.chaos import doubled_transitions, outage_seconds, running, start_worker, steps_of, vote_go
from tests.support.factories import item
from tests.support.flows import ready_launch, wait_for
from tests.support.processes import stop

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OUTAGE = outage_seconds("LAUNCHDECK_CHAOS_PREFECT_OUTAGE_S", 15.0)
HOLD_MINUTES = 0.01  # 0.6 s between ramp steps: EU's next step falls due during the outage
RAMP = {"ga": [{"percent": percent, "hold_minutes": HOLD_MINUTES} for percent in (5, 25, 50)] + [{"percent": 100}]}
EXPECTED = [("internal", 100), ("ga", 5), ("ga", 25), ("ga", 50), ("ga", 100)]
SLUG = "prefect-outage"


def rollout(session: Session, region: str) -> RegionRollout:
    found = session.exec(
        select(RegionRollout)
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(Launch.slug == SLUG, Region.code == region)
        .execution_options(populate_existing=True)
    ).one()
    session.commit()
    return found


def steps(session: Session) -> dict[str, list[tuple[str, int]]]:
    return {
        region: [(phase, percent) for phase, percent, _at in taken] for region, taken in steps_of(session, SLUG).items()
    }


def na_ga_checklist(session: Session) -> Gate:
    """NA's GA checklist gate, read afresh."""
    na_rollout = rollout(session, "NA").id
    gate = session.exec(
        select(Gate)
        .where(Gate.rollout_id == na_rollout, Gate.phase == Phase.GA, Gate.kind == GateKind.CHECKLIST)
        .execution_options(populate_existing=True)
    ).one()
    session.commit()
    return gate


def completed(session: Session) -> bool:
    status = session.exec(select(Launch.status).where(Launch.slug == SLUG)).one()
    session.commit()
    return status == LaunchStatus.COMPLETED


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_prefect_killed_mid_rollout_gates_still_pass_and_the_rollout_resumes_every_step_once_in_order(
    engine, seeded, actor, own_prefect, tmp_path: Path, capsys
):
    launch = ready_launch(
        seeded,
        actor,
        slug=SLUG,
        regions=("EU", "NA"),
        phases=(Phase.INTERNAL, Phase.GA),
        ramp_plan=RAMP,
        items=[item("ga_signoff", region="NA", phase=Phase.GA)],
    )
    vote_go(seeded, actor, launch)
    (signoff,) = seeded.exec(select(ChecklistItem.id).where(ChecklistItem.launch_id == launch.id)).all()
    seeded.commit()
    own_prefect.start_thread.join(timeout=120)
    assert own_prefect.process is not None
    assert own_prefect.process.poll() is None, "the Prefect server did not start"
    log = tmp_path / "worker.log"
    database_url = engine.url.render_as_string(hide_password=False)
    worker = start_worker(database_url, "prefect-chaos", log, PREFECT_API_URL=own_prefect.api_url)
    try:
        # Mid-rollout: EU took its first GA step and holds; NA is live in internal, gated for GA.
        wait_for(
            lambda: running(worker, log) and steps(seeded).get("EU", [])[1:2] == [("ga", 5)], timeout=90, interval=0.02
        )
        wait_for(lambda: steps(seeded).get("NA") == [("internal", 100)], timeout=30)
        # ... and its flow went on to open NA's GA gates (a step recorded is not yet the phase's end).
        wait_for(lambda: na_ga_checklist(seeded).status is GateStatus.OPEN, timeout=30)
        own_prefect.process.send_signal(signal.SIGKILL)
        own_prefect.process.wait(timeout=30)
        down_at = time.monotonic()
        before = steps(seeded)

        check_item(session=seeded, item_id=signoff, actor=actor)  # the database decides: at once
        na_gate = na_ga_checklist(seeded)
        seeded.commit()
        gate_passed_while_down = na_gate.status == GateStatus.PASSED
        na_state_while_down = rollout(seeded, "NA").state
        # Started again so that it answers about OUTAGE s after the kill (its first start's time
        # ahead), and never before half of it: a first start slowed by a busy machine must not
        # shorten the outage when the second start is quick.
        restart_at = max(OUTAGE - own_prefect.start_seconds, OUTAGE / 2)
        wait_for(lambda: running(worker, log) and time.monotonic() - down_at >= restart_at, timeout=OUTAGE + 30)
        own_prefect.start(deadline_seconds=120)  # the same home and port: the worker's PREFECT_API_URL
        during = steps(seeded)
        back_at, back_wall = time.monotonic(), datetime.now(UTC)
        wait_for(lambda: running(worker, log) and completed(seeded), timeout=120, interval=0.2)
        finished = time.monotonic() - back_at
    finally:
        stop(worker)

    taken = steps_of(seeded, SLUG)
    after_restart = sorted(at for region in taken.values() for _phase, _percent, at in region if at > back_wall)
    resumed = (after_restart[0] - back_wall).total_seconds() if after_restart else float("nan")
    with capsys.disabled():
        print(
            f"\nPrefect down {back_at - down_at:.1f} s (killed, restarted); NA's gate passed while down: "
            f"{gate_passed_while_down} (region {na_state_while_down}); first step {resumed:.2f} s after Prefect "
            f"answered again, launch completed {finished:.1f} s after"
        )
    assert gate_passed_while_down
    assert during == before, "a step was taken while Prefect was down"
    assert back_at - down_at >= OUTAGE / 2  # a sanity check: the figure printed above is the outage
    assert steps(seeded) == {"EU": EXPECTED, "NA": EXPECTED}  # every step once, in order
    assert doubled_transitions(seeded, SLUG) == {}
    assert len(after_restart) == len(EXPECTED) * 2 - len(before["EU"]) - len(before["NA"])
