"""The worker hears committed work at once (orchestrator/core/wake.py): with its poll set to a
minute, a check-off that passes a gate still moves the region within seconds; a transaction that
rolls back wakes no loop, and on PostgreSQL a commit wakes only the loops its topics concern."""

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import Session, col, select

from flows.worker import YIELD_SECONDS, Worker
from orchestrator.core.clock import utcnow
from orchestrator.core.db import is_sqlite
from orchestrator.core.enums import Phase
from orchestrator.core.models import ChecklistItem, ExposureChange
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.items.service import check_item
from orchestrator.reporting.digest import queue_leadership_digest
from tests.support.factories import item
from tests.support.flows import ready_launch, wait_for

pytestmark = pytest.mark.usefixtures("prefect_server")  # the rollouts loop holds a Prefect client

POLL = 60.0  # the sweep: far longer than any wait below
LOOPS = ("rollouts", "exposures", "slack")


@contextmanager
def running(worker: Worker) -> Iterator[Worker]:
    """The worker's loops and listener on a thread, each loop through its first pass and the
    listener's first wake (every connection gives one) counted."""
    thread = threading.Thread(target=worker.run_forever, name="worker-under-test", daemon=True)
    thread.start()
    woken = 1 if worker.wake_on_commit else 0
    try:
        wait_for(lambda: all(worker.passes[name] >= 1 and worker.rung[name] >= woken for name in LOOPS), timeout=20)
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()


def items_of(session: Session, launch_id: int | None) -> list[int]:
    ids = session.exec(select(ChecklistItem.id).where(ChecklistItem.launch_id == launch_id)).all()
    return sorted(item_id for item_id in ids if item_id is not None)


def first_exposure_step(session: Session, slug: str) -> bool:
    found = session.exec(select(ExposureChange.id).where(col(ExposureChange.launch_slug) == slug)).first()
    session.commit()  # a fresh read next time (SQLite keeps a read transaction's snapshot)
    return found is not None


def settle(worker: Worker) -> None:
    """Wait until no loop has made a pass for three of the listener's looks (a loop that woke
    itself forever would fail here)."""
    deadline = time.monotonic() + 10
    while True:
        passes = dict(worker.passes)
        looked_again(worker, times=3)
        if dict(worker.passes) == passes:
            return
        assert time.monotonic() < deadline, f"the loops never settled: {worker.passes}"


def looked_again(worker: Worker, times: int = 2) -> None:
    """Wait until the listener has looked ``times`` more times (a wake it would give, it has given)."""
    assert worker.listener is not None
    target = worker.listener.checks + times
    wait_for(lambda: worker.listener is not None and worker.listener.checks >= target, timeout=10, interval=0.005)


def test_a_check_off_that_passes_the_gate_moves_the_region_long_before_the_poll(flow_db, seeded, actor):
    launch = ready_launch(seeded, actor, slug="wake-now", phases=(Phase.INTERNAL,), items=[item("last_one")])
    (last,) = items_of(seeded, launch.id)
    with running(Worker(poll_seconds=POLL, publish_events=False)):
        check_item(session=seeded, item_id=last, actor=actor)
        checked = time.monotonic()
        wait_for(lambda: first_exposure_step(seeded, "wake-now"), timeout=10, interval=0.02)
    assert time.monotonic() - checked < POLL / 6


def test_a_rolled_back_transaction_wakes_no_loop_and_a_commit_only_the_loops_it_concerns(flow_db, seeded, actor):
    ready_launch(seeded, actor, slug="wake-some", phases=(Phase.INTERNAL,), items=[item("a")])
    seeded.commit()
    worker = Worker(poll_seconds=POLL, publish_events=False)
    worker.deliver_notifications()  # the kick-off's messages: their commits would wake loops on SQLite
    with running(worker):
        settle(worker)
        before = dict(worker.rung)
        with Session(flow_db) as session:
            session.begin()
            enqueue(session, key=f"never-{uuid.uuid4().hex}", topic=Topic.TARGET_EXPOSURE, launch_id=None, payload={})
            session.flush()
            session.rollback()
        looked_again(worker)
        rung_after_rollback = dict(worker.rung)
        queue_leadership_digest(session=seeded, now=utcnow(), actor=actor)  # only Slack has work
        wait_for(lambda: worker.rung["slack"] > before["slack"], timeout=5, interval=0.005)
        looked_again(worker)
        rung_after_commit = dict(worker.rung)
        settle(worker)  # the loops' own commits (SQLite) end: a pass that finds no work writes nothing
    assert rung_after_rollback == before
    woken = {name for name in LOOPS if rung_after_commit[name] > before[name]}
    # SQLite's watcher cannot tell what changed, so every loop wakes; PostgreSQL names the topics.
    assert woken == (set(LOOPS) if is_sqlite(flow_db) else {"slack"})


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the loops' order is the same on both
def test_the_exposure_and_slack_loops_let_a_rollouts_pass_in_progress_end_first(flow_db):
    """One commit often wakes every loop; the region's flow must not share the interpreter with
    Slack's message composing meanwhile (BENCHMARKS.md, "Instant wake")."""
    worker = Worker(poll_seconds=POLL, publish_events=False, wake_on_commit=False)
    passes: list[str] = []

    def rollouts_pass() -> None:
        passes.append("rollouts begins")
        if worker.passes["rollouts"]:  # not the first pass at start: a region's flow taking a while
            threading.Event().wait(YIELD_SECONDS / 5)
        passes.append("rollouts ends")

    worker.run_regions = rollouts_pass
    worker.deliver_exposure_changes = lambda: passes.append("exposures")
    worker.deliver_notifications = lambda: passes.append("slack")
    with running(worker):  # each loop through its first pass; nothing runs again for a minute unless woken
        del passes[:]
        worker.wake(None)  # as a commit queueing work for every loop does
        wait_for(lambda: {"exposures", "slack"} <= set(passes), timeout=5, interval=0.005)
    assert passes[:2] == ["rollouts begins", "rollouts ends"]
    assert sorted(passes[2:4]) == ["exposures", "slack"]
