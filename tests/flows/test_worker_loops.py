"""The worker's loops run apart: a slow Slack backlog cannot hold up a region that became ready,
and stopping the worker stops every loop."""

import threading
import time

import pytest
from sqlmodel import col, select

from flows import resources
from flows.worker import Worker
from notifications.delivery.composer import TOPICS
from notifications.delivery.slack_transport import SlackTransport
from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import OutboxStatus, Phase
from orchestrator.core.models import ChecklistItem, ExposureChange, Outbox
from orchestrator.core.settings import reset_settings
from orchestrator.items.service import check_item
from tests.support.factories import item
from tests.support.fake_slack import TOKEN
from tests.support.flows import ready_launch, wait_for

pytestmark = pytest.mark.usefixtures("prefect_server")

BACKLOG = 20  # launches waiting at their gates, each with a gate message still to post
SLACK_DELAY = 5.0  # seconds the fake Slack takes to answer each call: the backlog needs 100 s or more
BOUND = 15.0  # seconds a ready region may wait for its first exposure step


def first_exposure(session, slug):
    found = session.exec(select(ExposureChange.percent).where(col(ExposureChange.launch_slug) == slug)).first()
    session.commit()
    return found is not None


def slow_slack_worker(fake_slack, monkeypatch):
    """A worker configured for Slack as in production (so the real slack_sdk transport, with its
    default pacing, timeout and retries) against a Slack that takes SLACK_DELAY seconds per call;
    it polls every 0.1 s."""
    monkeypatch.setenv("LAUNCHDECK_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", "not-checked-by-the-worker")
    monkeypatch.setenv("LAUNCHDECK_SLACK_API_URL", fake_slack.base_url)
    reset_settings()
    resources.reset()
    assert isinstance(resources.transport(), SlackTransport)
    fake_slack.slow(seconds=SLACK_DELAY)
    worker = Worker(poll_seconds=0.1, publish_events=False)
    thread = threading.Thread(target=worker.run_forever, name="worker-under-test", daemon=True)
    return worker, thread


def test_a_ready_region_rolls_out_while_slack_works_through_a_slow_backlog(
    flow_db, seeded, actor, fake_slack, monkeypatch
):
    for n in range(BACKLOG):
        ready_launch(seeded, actor, slug=f"backlog-{n}", phases=(Phase.INTERNAL,), items=[item("open_task")])
    launch = ready_launch(seeded, actor, slug="soon-ready", phases=(Phase.INTERNAL,), items=[item("last_one")])
    (last,) = seeded.exec(select(ChecklistItem).where(ChecklistItem.launch_id == launch.id)).all()
    worker, thread = slow_slack_worker(fake_slack, monkeypatch)
    thread.start()
    try:
        wait_for(lambda: fake_slack.calls_to("chat.postMessage"), timeout=30, interval=0.02)  # Slack is busy
        check_item(session=seeded, item_id=last.id, actor=actor)
        ready_at = time.monotonic()
        wait_for(lambda: first_exposure(seeded, "soon-ready"), timeout=BOUND, interval=0.05)
        waited = time.monotonic() - ready_at
        still_posting = len(fake_slack.calls_to("chat.postMessage")) < BACKLOG
    finally:
        worker.stop()
        fake_slack.release_hangs()
        thread.join(timeout=60)
    assert waited < BOUND
    assert still_posting, "the backlog was already through: the test proved nothing"
    assert not thread.is_alive()


def test_stopping_the_worker_stops_every_loop_and_gives_back_untried_slack_messages(
    flow_db, seeded, actor, fake_slack, monkeypatch
):
    for n in range(5):
        ready_launch(seeded, actor, slug=f"pending-{n}", phases=(Phase.INTERNAL,), items=[item("open_task")])
    worker, thread = slow_slack_worker(fake_slack, monkeypatch)
    thread.start()
    wait_for(lambda: fake_slack.calls_to("chat.postMessage"), timeout=30, interval=0.02)
    stopped_at = time.monotonic()
    worker.stop()
    thread.join(timeout=30)

    assert not thread.is_alive()
    assert time.monotonic() - stopped_at < 2 * SLACK_DELAY  # the message in flight, not the backlog
    assert {t.name for t in threading.enumerate()}.isdisjoint(worker.thread_names())
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    untried = seeded.exec(
        select(Outbox).where(col(Outbox.topic).in_(sorted(TOPICS)), Outbox.status == OutboxStatus.PENDING)
    ).all()
    seeded.commit()
    assert untried, "every message went out: the test proved nothing"
    assert all(as_utc(row.next_attempt_at) <= utcnow() for row in untried)  # due again, not held by a lease
