"""Slack unreachable for a whole rollout (issue #21): no rollout step waits for it, and once it is
back every message is delivered, each exactly once.

The fake Slack stops listening (every call refused at connect) before the worker starts and comes
back ``LAUNCHDECK_CHAOS_SLACK_OUTAGE_S`` seconds later (8 by default; 600 is the issue's ten
minutes). Meanwhile the launch's last items are checked off and its GA ramp runs, its holds a
quarter of the outage each, so steps fall due all through it; each must come on time (within
``LATE_BOUND`` of its hold's end), and the Slack intents wait, none parked as dead. The worker runs in this process with
the real Slack transport (pacing, timeouts and retries as in production) against the fake, and on
a Prefect server of this test's own (tests/chaos/conftest.py), so other tests' flows cannot make
its steps late.
"""

import threading
import time
from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import Session, col, select

from flows import resources
from flows.worker import OUTAGE_RETRY_CAP_SECONDS, Worker
from notifications.delivery.composer import TOPICS as SLACK_TOPICS
from notifications.delivery.slack_transport import SlackTransport
from orchestrator.core.enums import LaunchStatus, OutboxStatus, Phase
from orchestrator.core.models import AuditEvent, ChecklistItem, Launch, Outbox, SlackMessage
from orchestrator.core.settings import reset_settings
from orchestrator.items.service import check_item
from tests.support.chaos import StallProbe, doubled_transitions, outage_seconds, steps_of, vote_go
from tests.support.factories import item
from tests.support.fake_slack import TOKEN
from tests.support.flows import ready_launch, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

OUTAGE = outage_seconds("LAUNCHDECK_CHAOS_SLACK_OUTAGE_S", 8.0)
HOLD_SECONDS = OUTAGE / 4
RAMP = {"ga": [{"percent": percent, "hold_minutes": HOLD_SECONDS / 60} for percent in (5, 25, 50)] + [{"percent": 100}]}
EXPECTED = [("internal", 100), ("ga", 5), ("ga", 25), ("ga", 50), ("ga", 100)]
SLUG = "slack-outage"
LATE_BOUND = 3.0  # seconds a ramp step may come after its hold ended: a poll and a flow run
# ... plus the longest the machine itself stalled the database or Prefect meanwhile (StallProbe)
# After Slack is back: the slack loop's next try (at most OUTAGE_RETRY_CAP_SECONDS after the last,
# which itself took up to 3.5 s of the transport's connection retries), then the messages, paced
# one a second per channel as Slack asks.
DELIVERY_BOUND = 20.0


def step_times(session: Session) -> list[tuple[str, int, datetime]]:
    """The ramp steps as the region took them: (phase, percent, when), from the audit ledger."""
    launch_id = session.exec(select(Launch.id).where(Launch.slug == SLUG)).one()
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.launch_id == launch_id, AuditEvent.action == "rollout.exposure_changed")
        .order_by(col(AuditEvent.id))
    ).all()
    session.commit()
    return [(str(event.after["phase"]), int(event.after["percent"]), event.at) for event in events if event.after]


def completed_at(session: Session) -> datetime:
    launch_id = session.exec(select(Launch.id).where(Launch.slug == SLUG)).one()
    at = session.exec(
        select(AuditEvent.at).where(AuditEvent.launch_id == launch_id, AuditEvent.action == "launch.completed")
    ).one()
    session.commit()
    return at


def launch_status(session: Session) -> LaunchStatus:
    status = session.exec(select(Launch.status).where(Launch.slug == SLUG)).one()
    session.commit()
    return LaunchStatus(status)


def slack_intents(session: Session) -> Counter[OutboxStatus]:
    statuses = session.exec(select(Outbox.status).where(col(Outbox.topic).in_(sorted(SLACK_TOPICS)))).all()
    session.commit()
    return Counter(OutboxStatus(status) for status in statuses)


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_slack_unreachable_through_a_rollout_delays_no_step_and_every_message_arrives_once(
    flow_db, seeded, actor, fake_slack, own_prefect, monkeypatch, capsys
):
    launch = ready_launch(
        seeded,
        actor,
        slug=SLUG,
        phases=(Phase.INTERNAL, Phase.GA),
        ramp_plan=RAMP,
        items=[item("press_kit", team="marketing"), item("faq", team="support")],
    )
    vote_go(seeded, actor, launch)
    items = seeded.exec(select(ChecklistItem.id).where(ChecklistItem.launch_id == launch.id)).all()
    seeded.commit()
    monkeypatch.setenv("LAUNCHDECK_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", "not-checked-by-the-worker")
    monkeypatch.setenv("LAUNCHDECK_SLACK_API_URL", fake_slack.base_url)
    reset_settings()
    resources.reset()
    assert isinstance(resources.transport(), SlackTransport)
    worker = Worker(poll_seconds=0.1, publish_events=False)

    def run_on_own_prefect() -> None:
        with temporary_settings(updates={PREFECT_API_URL: own_prefect.api_url}):
            worker.run_forever()

    thread = threading.Thread(target=run_on_own_prefect, name="worker-under-test", daemon=True)
    own_prefect.start_thread.join(timeout=120)
    assert own_prefect.process is not None
    assert own_prefect.process.poll() is None, "the Prefect server did not start"

    fake_slack.go_down()
    down_at, down_wall = time.monotonic(), datetime.now(UTC)
    with StallProbe(flow_db, own_prefect.api_url) as probe:
        thread.start()
        try:
            for item_id in items:
                check_item(session=seeded, item_id=item_id, actor=actor)
            wait_for(lambda: thread.is_alive() and time.monotonic() - down_at >= OUTAGE, timeout=OUTAGE + 5)
            pending_at_return = slack_intents(seeded)
            fake_slack.come_back()
            back_at, back_wall = time.monotonic(), datetime.now(UTC)
            wait_for(lambda: thread.is_alive() and launch_status(seeded) == LaunchStatus.COMPLETED, timeout=60)
            wait_for(lambda: set(slack_intents(seeded)) == {OutboxStatus.SENT}, timeout=DELIVERY_BOUND + 30)
            delivered_in = time.monotonic() - back_at
        finally:
            worker.stop()
            thread.join(timeout=60)
            EventsWorker.drain_all(timeout=10)  # none may stay bound to this test's server once it is gone

    taken = step_times(seeded)
    lateness = [
        (later - earlier).total_seconds() - HOLD_SECONDS
        for (phase, _p, earlier), (next_phase, _n, later) in pairwise(taken)
        if phase == next_phase == "ga"
    ]
    during = len([at for _phase, _percent, at in taken if at < back_wall])
    completed_in = (completed_at(seeded) - down_wall).total_seconds()
    first_call = min(call.at for call in fake_slack.calls) - back_at
    posts = [call for call in fake_slack.calls_to("chat.postMessage") if call.answered == "ok"]
    shown = [message for messages in fake_slack.messages.values() for message in messages]
    remembered = seeded.exec(select(SlackMessage)).all()
    seeded.commit()
    with capsys.disabled():
        print(
            f"\nSlack unreachable {back_at - down_at:.1f} s; {during} of {len(taken)} steps taken meanwhile, the launch "
            f"completed {completed_in:.1f} s after the outage began, ramp steps at most {max(lateness):.2f} s after "
            f"their hold; {sum(pending_at_return.values())} intents waiting; Slack's first call {first_call:.1f} s "
            f"after it was back, all sent after {delivered_in:.1f} s ({len(posts)} posts, "
            f"{len(fake_slack.calls_to('chat.update'))} edits); outage retry cap {OUTAGE_RETRY_CAP_SECONDS:g} s; "
            f"the machine stalled the database or Prefect up to {probe.worst:.2f} s"
        )
    assert not thread.is_alive()
    assert [(phase, percent) for phase, percent, _at in taken] == EXPECTED
    assert {region: [(p, n) for p, n, _at in steps] for region, steps in steps_of(seeded, SLUG).items()} == {
        "EU": EXPECTED
    }
    assert doubled_transitions(seeded, SLUG) == {}
    assert during >= 3, "too few steps fell in the outage: the test proved little"
    assert max(lateness) <= LATE_BOUND + probe.worst, f"steps late by {lateness} s; stall measured {probe.worst:.2f} s"
    assert OutboxStatus.DEAD not in pending_at_return
    assert pending_at_return[OutboxStatus.PENDING] > 0, "nothing waited for Slack: the test proved nothing"
    assert len(posts) == len(shown) == len(remembered)  # each message posted once
    assert len({(m.channel, m.ts) for m in remembered}) == len(remembered)
    assert delivered_in <= DELIVERY_BOUND
