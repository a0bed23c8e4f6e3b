"""A real `launchdeck worker` SIGKILLed mid-ramp against the suite's real Unleash, and restarted:
Unleash and launchdeck must both show every ramp step (5, 25, 100) applied once and in order.

The worker reaches Unleash through a relay (``tests/support/tap_proxy.py``) that lets the test kill
it at exact points of a delivery instead of at random; the two points are the dangerous ones:

1. **5%: launchdeck recorded the step, Unleash got half of it**: the region's strategy is set, the
   request switching the flag on is dropped on its way and the worker killed. Nothing may be lost
   (the change must be finished on replay, not taken as done), a replay must not add a second
   strategy, and no step may leave the flag on without its strategy (on for everyone).
2. **25%: Unleash shows 25% (strategy set, flag on, read back), launchdeck has not recorded it**,
   and the next step, 100%, is queued behind it while the killed worker's claim on 25% still runs.
   If the newer change overtook the older one, the replayed 25% would land after 100% and leave
   the region at 25% while launchdeck says 100% (the order guard in
   ``orchestrator/rollouts/exposure.py``). The test keeps that claim until the restarted worker has
   passed 100% over at least once, as the default two-minute lease would (the test's is 5 s, and a
   slow restart on a busy machine would otherwise outlast it and hide the danger); the dead
   worker's other claims are handed back at each restart, as if its lease had run out already.

A replayed change sets the same absolute value again, which Unleash does not even log as an event
(it logs changes), so its event log lists each step once exactly when each was applied once.
PostgreSQL only (workers scale out there). Its time is mostly three worker starts: importing the
CLI alone takes 2.6 s of CPU, so about 15 s on a quiet machine (estimated), 47 s measured at a load
average of 7 to 9, where a start takes 8 to 12 s."""

import contextlib
import signal
import subprocess
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import OutboxStatus, Phase
from orchestrator.core.models import ExposureChange, Outbox
from orchestrator.rollouts.service import TARGET_TOPIC
from tests.flows.test_unleash_target import admin_strategies, client_view, use_unleash
from tests.flows.test_worker_processes import assert_exactly_once, completed, start_worker, vote_go
from tests.support.flows import ready_launch, wait_for
from tests.support.processes import stop
from tests.support.tap_proxy import Exchange, TapProxy
from tests.support.unleash import UnleashServer

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]

SLUG = "unleash-kill"
PREFIX = "kill."
FLAG = f"{PREFIX}{SLUG}"
RAMP = {"ga": [{"percent": 5, "hold_minutes": 0}, {"percent": 25, "hold_minutes": 0}, {"percent": 100}]}
STEPS = [("ga", 5), ("ga", 25), ("ga", 100)]
STRATEGY_ADDED, STRATEGY_UPDATED = "feature-strategy-add", "feature-strategy-update"


def switches_on(exchange: Exchange) -> bool:
    """Whether a request switches the flag on in an environment (the last write of a change)."""
    return (
        exchange.method == "POST"
        and exchange.path.startswith(f"/api/admin/projects/default/features/{FLAG}/")
        and exchange.path.endswith("/on")
    )


def readback_percent(exchange: Exchange) -> int | None:
    """EU's percent in a client-API read of the flag (what the target reads back after a change)."""
    if exchange.method != "GET" or exchange.path != f"/api/client/features/{FLAG}" or exchange.status != 200:
        return None
    for strategy in exchange.answer_json().get("strategies", []):
        if strategy["constraints"][0]["values"] == ["EU"]:
            return int(strategy["parameters"]["rollout"])
    return None


class Killer:
    """Kills the current worker at each kill point in turn (see the module doc), once each.

    ``changes(percent)`` says whether launchdeck has queued that step."""

    def __init__(self, changes: Callable[[int], bool]) -> None:
        self.worker: subprocess.Popen[bytes] | None = None
        self.fired: list[str] = []
        self._changes = changes
        self._lock = threading.Lock()

    def arm(self, worker: subprocess.Popen[bytes]) -> None:
        self.worker = worker

    def before(self, exchange: Exchange) -> bool:
        with self._lock:
            if len(self.fired) == 0 and switches_on(exchange):
                return not self._kill("5% strategy set in Unleash, switching the flag on dropped")
        return True

    def after(self, exchange: Exchange) -> bool:
        with self._lock:
            if len(self.fired) == 1 and readback_percent(exchange) == 25:
                # Hold the answer while the flow queues the next step (when it is the exposure loop
                # that waits here; when it is the flow's own delivery, 100% is queued after the restart).
                with contextlib.suppress(AssertionError):
                    wait_for(lambda: self._changes(100), timeout=1, interval=0.05)
                return not self._kill("25% shown by Unleash, not recorded by launchdeck")
        return True

    def _kill(self, label: str) -> bool:
        worker = self.worker
        if worker is None or worker.poll() is not None:
            return False  # a dead worker's late request: let it through
        self.fired.append(label)  # first: the test, seeing the worker gone, must know why
        self.worker = None
        worker.send_signal(signal.SIGKILL)  # no cleanup: claims and leases stay until they run out
        worker.wait(timeout=30)
        return True


def unleash_steps(unleash: UnleashServer) -> tuple[list[tuple[str, int]], int]:
    """What Unleash logged for the flag, oldest first: (region, percent) per strategy added or
    changed in the environment, and how many times the flag was switched on there."""
    response = httpx.get(f"{unleash.url}/api/admin/events/{FLAG}", headers={"Authorization": unleash.admin_token})
    response.raise_for_status()
    events = sorted(response.json()["events"], key=lambda event: event["id"])
    ours = [event for event in events if event.get("environment") == unleash.environment]
    steps = [
        (event["data"]["constraints"][0]["values"][0], int(event["data"]["parameters"]["rollout"]))
        for event in ours
        if event["type"] in (STRATEGY_ADDED, STRATEGY_UPDATED)
    ]
    return steps, sum(event["type"] == "feature-environment-enabled" for event in ours)


def target_rows(session: Session, launch_id: int) -> list[Outbox]:
    rows = list(
        session.exec(
            select(Outbox)
            .where(Outbox.topic == TARGET_TOPIC, Outbox.launch_id == launch_id)
            .order_by(col(Outbox.id))
            .execution_options(populate_existing=True)
        )
    )
    session.commit()
    return rows


def row_of(session: Session, launch_id: int, percent: int) -> Outbox | None:
    return next((row for row in target_rows(session, launch_id) if row.payload["percent"] == percent), None)


def hold_claim(session: Session, row_id: int, *, seconds: float) -> None:
    """Move the (killed worker's) claim on a change: it runs out ``seconds`` from now."""
    session.exec(
        update(Outbox).where(col(Outbox.id) == row_id).values(next_attempt_at=utcnow() + timedelta(seconds=seconds))
    )
    session.commit()


def claims_run_out(session: Session, launch_id: int, *, but: int | None = None) -> None:
    """The killed worker's claims on the launch's changes run out now (as its 5 s lease would a
    few seconds later: the random-kill test waits them out for real), except the claim on the
    change of percent ``but``, which is made to outlast the restart."""
    for row in target_rows(session, launch_id):
        if row.status == OutboxStatus.PENDING and row.id is not None:
            hold_claim(session, row.id, seconds=600 if row.payload["percent"] == but else 0)


def passed_over(session: Session, launch_id: int, percent: int, *, since: datetime) -> bool:
    """Whether a worker looked at this change after ``since`` and after it was queued, and (the
    guard working) put it back: due again, at the time of that look. A change still claimed is
    due only in the future; one never looked at is due since it was queued. Or it was sent."""
    row = row_of(session, launch_id, percent)
    if row is None:
        return False
    due = as_utc(row.next_attempt_at)
    return row.status == OutboxStatus.SENT or max(as_utc(row.created_at), since) < due <= utcnow()


def answers(session: Session) -> list[tuple[str, int, str, Any]]:
    rows = session.exec(
        select(ExposureChange).where(ExposureChange.launch_slug == SLUG).order_by(col(ExposureChange.id))
    ).all()
    session.commit()
    return [(row.phase.value, row.percent, row.target, (row.answer or {}).get("rollouts")) for row in rows]


@pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_worker_killed_mid_ramp_leaves_each_unleash_step_applied_once_in_order(
    engine, seeded, actor, unleash_server, monkeypatch, tmp_path
):
    launch_id = 0

    def queued(percent: int) -> bool:
        """Whether launchdeck queued the step (asked from the relay's threads: a session of their own)."""
        with Session(engine) as session:
            return row_of(session, launch_id, percent) is not None

    killer = Killer(queued)
    proxy = TapProxy(unleash_server.url, killer)
    # The launch's region names Unleash; the installation's default stays the recorder.
    use_unleash(monkeypatch, unleash_server, prefix=PREFIX, ROLLOUT_TARGET="recording", UNLEASH_URL=proxy.start())
    launch = ready_launch(seeded, actor, slug=SLUG, phases=(Phase.GA,), ramp_plan=RAMP, region_target="unleash")
    launch_id = launch.id
    database_url = engine.url.render_as_string(hide_password=False)
    log = tmp_path / "worker.log"
    vote_go(seeded, actor, launch)

    def run(label: str, *stages: Callable[[], object]) -> None:
        """Start a worker and wait for each stage in turn: a stage is a condition, or an action
        (it returns None) done once the previous condition held."""
        # One name for every start, as a restarted service keeps its own: it takes its region
        # lease back at once instead of waiting for it to run out.
        worker = start_worker(database_url, "unleash-worker", log)
        killer.arm(worker)
        try:
            for index, stage in enumerate(stages):

                def reached(stage: Callable[[], object] = stage) -> bool:
                    return stage() is not False or worker.poll() is not None

                try:
                    wait_for(reached, timeout=60)
                except AssertionError:
                    changes = [
                        (r.payload["percent"], r.status.value, r.last_error) for r in target_rows(seeded, launch_id)
                    ]
                    raise AssertionError(
                        f"{label}, stage {index + 1}: not reached in 60 s; kills {killer.fired}, "
                        f"changes {changes}, Unleash saw {unleash_steps(unleash_server)}"
                    ) from None
                if worker.poll() is not None and killer.worker is worker:
                    raise AssertionError(f"the worker ({label}) exited on its own:\n{log.read_text()[-3000:]}")
        finally:
            stop(worker)  # a no-op once killed

    def sent_all() -> bool:
        return completed(seeded, [SLUG]) and {row.status for row in target_rows(seeded, launch_id)} == {
            OutboxStatus.SENT
        }

    try:
        run("kill-1", lambda: len(killer.fired) == 1)
        claims_run_out(seeded, launch_id)
        run("kill-2", lambda: len(killer.fired) == 2)
        twenty_five = row_of(seeded, launch_id, 25)
        assert twenty_five is not None
        assert twenty_five.status == OutboxStatus.PENDING
        claims_run_out(seeded, launch_id, but=25)  # 100% (if queued yet) due at once, 25% still claimed
        restarted = utcnow()
        run(
            "restart",
            lambda: passed_over(seeded, launch_id, 100, since=restarted),  # 100% due, 25% claimed: held back
            lambda: hold_claim(seeded, twenty_five.id, seconds=0),  # then the claim on 25% runs out
            sent_all,
        )
    finally:
        proxy.stop()

    # Unleash: each step applied once, in order, one strategy, switched on once; SDKs see 100%.
    assert unleash_steps(unleash_server) == ([("EU", 5), ("EU", 25), ("EU", 100)], 1)
    assert client_view(unleash_server, FLAG) == (True, {"EU": 100})
    assert len(admin_strategies(unleash_server, FLAG)) == 1
    assert killer.fired == [
        "5% strategy set in Unleash, switching the flag on dropped",
        "25% shown by Unleash, not recorded by launchdeck",
    ]
    # launchdeck: each step recorded once, in order, with what Unleash answered; every change sent
    # in order; every transition once (the helper of the random-kill test).
    assert answers(seeded) == [(phase, percent, "unleash", {"EU": percent}) for phase, percent in STEPS]
    rows = target_rows(seeded, launch_id)
    assert [(row.payload["percent"], row.status) for row in rows] == [(p, OutboxStatus.SENT) for _, p in STEPS]
    delivered = [row.delivered_at for row in rows]
    assert delivered == sorted(delivered)
    assert_exactly_once(seeded, [SLUG], ("EU",), expected_steps=STEPS, phases=(Phase.GA,))
