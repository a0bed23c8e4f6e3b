"""Notification intents delivered through the real WebClient to the fake Slack Web API: once per
intent, updated in place on check-off, nothing lost or doubled through an outage."""

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from notifications.delivery.composer import TOPICS
from notifications.delivery.console_transport import ConsoleTransport
from notifications.delivery.slack_delivery import _envelopes, dispatch_notifications
from notifications.delivery.slack_transport import SlackTransport
from notifications.delivery.transport import DeliveryMarker
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, OutboxStatus, Phase, Vote
from orchestrator.core.models import ChecklistItem, Gate, Outbox, SlackMessage
from orchestrator.core.outbox import MAX_DELIVERY_ATTEMPTS, claim_outbox
from orchestrator.gates.approvals import cast_vote
from orchestrator.items.service import check_item
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import halt_region
from tests.support.factories import approver_in_person, item, make_approvers, make_launch
from tests.support.fake_slack import TOKEN, Reply, transport

NOW = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
LAUNCHES = 5  # for the flaky-Slack test: 5 x (2 gate posts, 3 edits, 1 gate-passed post)


def dispatch(session, via, when=NOW):
    return dispatch_notifications(session=session, transport=via, now=when, leadership_channel="#leaders")


def launch_with_items(session, actor):
    launch = make_launch(
        session,
        actor,
        items=[item("press_kit", team="marketing"), item("faq", team="support"), item("macros", team="support")],
    )
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    return launch


def unsent(session, topics):
    """Intents for Slack not yet sent (other topics belong to other consumers)."""
    found = session.exec(
        select(Outbox.topic, Outbox.status).where(col(Outbox.topic).in_(topics), Outbox.status != OutboxStatus.SENT)
    ).all()
    session.commit()
    return found


def posts(fake):
    return fake.calls_to("chat.postMessage")


def test_a_gate_opening_posts_one_message_per_team_once(seeded, actor, fake_slack):
    launch_with_items(seeded, actor)
    run = dispatch(seeded, transport(fake_slack))
    assert run.delivered >= 1
    channels = sorted(call.body["channel"] for call in posts(fake_slack))
    assert channels == ["#launch-marketing", "#launch-support"]
    assert dispatch(seeded, transport(fake_slack)).delivered == 0  # nothing queued twice
    assert len(posts(fake_slack)) == 2


def test_a_check_off_edits_the_gate_message_in_place(seeded, actor, fake_slack):
    launch_with_items(seeded, actor)
    dispatch(seeded, transport(fake_slack))
    faq = seeded.exec(select(ChecklistItem).where(ChecklistItem.key == "faq")).one()
    check_item(session=seeded, item_id=faq.id, actor=actor)
    dispatch(seeded, transport(fake_slack))
    assert len(posts(fake_slack)) == 2  # no new post
    updates = fake_slack.calls_to("chat.update")
    assert len(updates) == 1
    (support,) = fake_slack.messages["CLAUNCHSUPP"]
    assert support.edits == 1
    assert actor.name in str(support.blocks)


def test_slack_down_then_back_loses_nothing_and_doubles_nothing(seeded, actor, fake_slack):
    launch_with_items(seeded, actor)
    fake_slack.script("chat.postMessage", [Reply.server_error(500)] * 12)
    first = dispatch(seeded, transport(fake_slack))
    assert first.delivered == 0
    pending = seeded.exec(select(Outbox).where(Outbox.topic == "gate.opened")).all()
    seeded.commit()
    assert {row.status for row in pending} == {OutboxStatus.PENDING}
    assert all(row.attempts == 1 and row.last_error for row in pending)
    # An hour later Slack answers again: every intent goes out once.
    later = datetime(2027, 2, 1, 13, 0, tzinfo=UTC)
    fake_slack.script("chat.postMessage", [])
    for minute in range(6):  # backoff: each retry is due a little later
        dispatch(seeded, transport(fake_slack), when=later + timedelta(minutes=minute))
    delivered = [call for call in posts(fake_slack) if call.answered == "ok"]
    assert sorted(call.body["channel"] for call in delivered) == ["#launch-marketing", "#launch-support"]
    assert len(seeded.exec(select(SlackMessage)).all()) == 2


def test_slack_unreachable_for_many_passes_parks_nothing_and_each_message_goes_out_once_after(
    seeded, actor, fake_slack
):
    """Refused at connect, Slack got nothing: each pass gives the intents back untried (no attempt
    counted, however many passes: MAX_DELIVERY_ATTEMPTS failures would park them as dead)
    and says Slack is unreachable, so the worker waits for Slack rather than for each intent."""
    launch_with_items(seeded, actor)
    fake_slack.go_down()
    passes = range(MAX_DELIVERY_ATTEMPTS + 1)
    runs = [dispatch(seeded, transport(fake_slack), NOW + timedelta(minutes=minute)) for minute in passes]
    waiting = seeded.exec(select(Outbox.status, Outbox.attempts, Outbox.claims).where(Outbox.topic == "gate.opened"))
    waited = list(waiting)
    seeded.commit()
    fake_slack.come_back()
    back = dispatch(seeded, transport(fake_slack), NOW + timedelta(minutes=len(passes)))

    assert all(run.unreachable and "cannot reach Slack" in run.unreachable for run in runs)
    assert waited == [(OutboxStatus.PENDING, 0, 0)]  # the gate's intent: one message per team
    assert back.unreachable is None
    assert back.delivered == 1
    assert sorted(call.body["channel"] for call in posts(fake_slack)) == ["#launch-marketing", "#launch-support"]


def test_a_slow_pass_gives_back_the_intents_it_would_reach_after_half_their_claim(seeded, actor, fake_slack):
    """Another worker may take a row whose claim ran out; a pass must not still be working on it."""
    for slug in ("first-launch", "second-launch"):  # a gate message intent each
        launch = make_launch(seeded, actor, slug=slug, items=[item("press_kit", team="marketing")])
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    fake_slack.slow(seconds=1.5)  # the first post alone outlasts half of the 2 s claim

    run = dispatch_notifications(
        session=seeded, transport=transport(fake_slack), now=NOW, leadership_channel="#leaders", claim_seconds=2
    )

    assert run.delivered == 1
    left = seeded.exec(
        select(Outbox).where(col(Outbox.topic).in_(sorted(TOPICS)), Outbox.status == OutboxStatus.PENDING)
    ).all()
    seeded.commit()
    assert left, "every intent went out: the pass was not slow enough to prove anything"
    assert all(as_utc(row.next_attempt_at) == NOW and row.claims == 0 and row.attempts == 0 for row in left)


@pytest.mark.one_database(reason="message rendering (tests/ONE_DATABASE.md)")
def test_a_halt_is_announced_loudly_in_the_region_channel(seeded, actor, fake_slack):
    launch = launch_with_items(seeded, actor)
    dispatch(seeded, transport(fake_slack))
    rollout_id = seeded.exec(select(ChecklistItem.rollout_id).where(ChecklistItem.launch_id == launch.id)).first()
    halt_region(session=seeded, rollout_id=rollout_id, actor=actor, reason="Error budget burnt")
    dispatch(seeded, transport(fake_slack))
    halt_posts = [call for call in posts(fake_slack) if call.body["channel"] == "#launch-eu"]
    assert len(halt_posts) == 1
    assert "Error budget burnt" in str(halt_posts[0].body)
    assert "rotating_light" in str(halt_posts[0].body)


def test_a_no_go_is_announced_with_the_voters_reason_and_the_reevaluation_date(seeded, actor, fake_slack):
    make_approvers(seeded, actor, "ana@example.com")
    launch = make_launch(seeded, actor, dates={Phase.GA: NOW - timedelta(days=1)}, approvers=["ana@example.com"])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    gate_id = seeded.exec(select(Gate.id).where(Gate.kind == GateKind.APPROVAL)).one()
    again = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
    cast_vote(
        session=seeded,
        gate_id=gate_id,
        vote=Vote.NO_GO,
        actor=approver_in_person(seeded, "ana@example.com"),
        comment="Churn risk in <DACH> too high",
        reevaluate_at=again,
    )
    dispatch(seeded, transport(fake_slack))
    (no_go,) = [call for call in posts(fake_slack) if "NO-GO" in str(call.body)]
    body = str(no_go.body)
    assert "none given" not in body
    assert "Churn risk in &lt;DACH&gt; too high" in body
    assert "Looked at again" in body
    assert "15 Jan 2030" in body


def test_a_channel_slack_does_not_know_parks_the_intent_as_dead(seeded, actor, fake_slack):
    fake_slack.unknown_channels.add("#launch-marketing")
    launch_with_items(seeded, actor)
    run = dispatch(seeded, transport(fake_slack))
    assert run.dead == 1
    dead = seeded.exec(select(Outbox).where(Outbox.status == OutboxStatus.DEAD)).all()
    assert len(dead) == 1
    assert "#launch-marketing" in (dead[0].last_error or "")


@pytest.mark.one_database(reason="message rendering (tests/ONE_DATABASE.md)")
def test_the_console_transport_keeps_what_it_would_have_posted(seeded, actor):
    launch_with_items(seeded, actor)
    console = ConsoleTransport()
    dispatch(seeded, console)
    assert len(console.messages) == 2
    assert {message.ref.channel for message in console.messages} == {"#launch-marketing", "#launch-support"}
    assert all(message.text and message.blocks for message in console.messages)


def test_dead_intents_are_listed_and_sent_again_by_the_cli(seeded, actor, fake_slack, workdir, engine):
    from typer.testing import CliRunner

    from cli.main import app
    from orchestrator.core.settings import reset_settings

    fake_slack.unknown_channels.add("#launch-marketing")
    launch_with_items(seeded, actor)
    assert dispatch(seeded, transport(fake_slack)).dead == 1
    (workdir / ".env").write_text(f"LAUNCHDECK_DATABASE_URL={engine.url.render_as_string(hide_password=False)}\n")
    reset_settings()
    runner = CliRunner()
    listed = runner.invoke(app, ["outbox", "list", "--status", "dead"], catch_exceptions=False)
    assert "gate.opened" in listed.output
    retried = runner.invoke(app, ["outbox", "retry", "--all-dead"], catch_exceptions=False)
    assert "queued 1 dead row(s) again" in retried.output
    fake_slack.unknown_channels.clear()
    assert dispatch(seeded, transport(fake_slack), when=datetime.now(UTC)).delivered == 1
    reset_settings()


def test_dead_intents_are_visible_and_retryable_through_the_api(seeded, actor, fake_slack, api_server, tokens):
    import httpx

    fake_slack.unknown_channels.add("#launch-marketing")
    launch_with_items(seeded, actor)
    assert dispatch(seeded, transport(fake_slack)).dead == 1
    headers = {"Authorization": f"Bearer {tokens['prodops']}"}
    dead = httpx.get(f"{api_server}/api/v1/outbox", params={"status": "dead"}, headers=headers).json()
    assert [row["topic"] for row in dead] == ["gate.opened"]
    assert "#launch-marketing" in dead[0]["last_error"]
    leadership = {"Authorization": f"Bearer {tokens['leadership']}"}
    assert httpx.get(f"{api_server}/api/v1/outbox", headers=leadership).status_code == 403
    answer = httpx.post(f"{api_server}/api/v1/outbox/retry", json={"ids": [dead[0]["id"]]}, headers=headers)
    assert answer.json() == {"queued": 1}
    assert httpx.get(f"{api_server}/api/v1/outbox", params={"status": "dead"}, headers=headers).json() == []


def impatient(fake):
    """A client that gives up after 0.4 s, for the fake's held-back answers."""
    return SlackTransport(token=TOKEN, base_url=fake.base_url, timeout=0.4, pace_seconds=0, sleep=lambda _s: None)


def gate_rows(session):
    rows = session.exec(select(Outbox).where(Outbox.topic == "gate.opened")).all()
    session.commit()
    return rows


def test_a_post_whose_answer_was_lost_is_found_and_updated_not_posted_again(seeded, actor, fake_slack):
    launch_with_items(seeded, actor)
    fake_slack.script("chat.postMessage", [Reply.hang()])  # Slack posts the first one, the answer never comes
    first = dispatch(seeded, impatient(fake_slack))
    fake_slack.release_hangs()
    assert first.failed == 1
    (row,) = [row for row in gate_rows(seeded) if row.status == OutboxStatus.PENDING]
    assert "may have posted" in (row.last_error or "")

    for minute in range(1, 4):  # the retry comes after its backoff
        dispatch(seeded, transport(fake_slack), when=NOW + timedelta(minutes=minute))

    assert {row.status for row in gate_rows(seeded)} == {OutboxStatus.SENT}
    by_channel = fake_slack.messages
    assert sorted(len(messages) for messages in by_channel.values()) == [1, 1]  # one message per team, no copy
    assert len(fake_slack.calls_to("conversations.history")) == 1
    assert len(fake_slack.calls_to("chat.update")) == 1  # the found message brought up to date
    assert len(seeded.exec(select(SlackMessage)).all()) == 2


def test_a_worker_killed_between_posting_and_storing_the_ts_posts_nothing_twice(seeded, actor, fake_slack):
    """The claim of a dead deliverer expires; the next one finds the message by its metadata."""
    launch_with_items(seeded, actor)
    (row,) = claim_outbox(seeded, topics=["gate.opened"], now=NOW, claim_seconds=60)
    envelope = _envelopes(seeded, row=row, now=NOW, leadership_channel="#leaders")[0]
    seeded.commit()
    marker = DeliveryMarker(outbox_id=row.id, key=row.key, audience=envelope.audience, part=0)
    message = envelope.messages[0]
    transport(fake_slack).post(  # what the killed worker got done: Slack has the message, we have no ts
        channel=envelope.destination.channel, text=message.text, blocks=message.blocks, marker=marker
    )

    dispatch(seeded, transport(fake_slack), when=NOW + timedelta(minutes=2))

    assert {row.status for row in gate_rows(seeded)} == {OutboxStatus.SENT}
    assert sorted(len(messages) for messages in fake_slack.messages.values()) == [1, 1]
    assert len(posts(fake_slack)) == 2  # the killed worker's post and the other team's, nothing more


def test_a_retry_after_a_clean_failure_looks_first_then_posts_once(seeded, actor, fake_slack):
    fake_slack.channel_ids.update({"#launch-marketing": "CMARKETING", "#launch-support": "CSUPPORT"})
    launch_with_items(seeded, actor)
    fake_slack.script("chat.postMessage", [Reply.error("internal_error")] * 2)  # Slack said no: nothing posted
    dispatch(seeded, transport(fake_slack))
    for minute in range(1, 6):
        dispatch(seeded, transport(fake_slack), when=NOW + timedelta(minutes=minute))

    assert {row.status for row in gate_rows(seeded)} == {OutboxStatus.SENT}
    assert sorted(len(messages) for messages in fake_slack.messages.values()) == [1, 1]
    # Attempt 1 fails on the first team; attempt 2 looks for it and fails again; attempt 3 looks for
    # both teams' messages, finds neither, and posts each once.
    assert len(fake_slack.calls_to("conversations.history")) == 3


def test_a_first_attempt_never_reads_history(seeded, actor, fake_slack):
    launch_with_items(seeded, actor)
    dispatch(seeded, transport(fake_slack))
    assert fake_slack.calls_to("conversations.history") == []
    assert all(call.body.get("metadata", {}).get("event_type") == "launchdeck_delivery" for call in posts(fake_slack))


@pytest.mark.one_database(reason="Slack fault handling over HTTP (tests/ONE_DATABASE.md)")
@pytest.mark.slow
def test_slack_failing_30_percent_of_calls_then_recovering_delivers_every_notification_once(seeded, actor, fake_slack):
    """Three launches' gate messages and check-off edits go out while a seeded 30% of Slack's answers
    are 429s, 500s or no answer at all; once Slack recovers, every intent is sent, each message was
    posted exactly once, and what Slack shows is what the database says now."""
    from notifications.delivery import composer

    seed = int(os.environ.get("FLAKY_SEED", "20261128"))
    print(f"fake Slack failure seed: {seed}")
    for index in range(LAUNCHES):
        launch = make_launch(
            seeded,
            actor,
            slug=f"flaky-{index}",
            items=[item("press_kit", team="marketing"), item("faq", team="support"), item("macros", team="support")],
        )
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    # A 1 s client timeout keeps the injected silences short. A loaded machine that times out an
    # answered call only adds a "lost answer" the dispatcher must handle anyway.
    via = SlackTransport(token=TOKEN, base_url=fake_slack.base_url, timeout=1, pace_seconds=0, sleep=lambda _s: None)
    fake_slack.flaky(rate=0.3, seed=seed)
    when = NOW
    dispatch(seeded, via, when)
    for row in seeded.exec(select(ChecklistItem).order_by(ChecklistItem.id)).all():
        check_item(session=seeded, item_id=row.id, actor=actor)
        when += timedelta(minutes=1)
        dispatch(seeded, via, when)
    fake_slack.recover()
    for _round in range(12):  # each round an hour later: every backoff has run out
        when += timedelta(hours=1)
        dispatch(seeded, via, when)
        if not unsent(seeded, composer.TOPICS):
            break
    seeded.commit()

    failed = [call for call in fake_slack.calls if call.answered != "ok"]
    print(sorted((c.method, c.answered) for c in failed), len(fake_slack.calls))
    # What the test names must have happened: rate limits, errors and lost answers, on posts too.
    assert {"rate_limited", "server_error"} <= {call.answered for call in failed}
    assert {"lost", "hang"} <= {call.answered for call in failed}
    # Posts Slack carried out whose answer never came: the dispatcher must find them, not repeat them.
    assert any(call.method == "chat.postMessage" and call.answered == "hang" for call in failed)
    assert failed, "the fault injection never fired; the test proves nothing"
    assert unsent(seeded, composer.TOPICS) == []
    assert len(seeded.exec(select(Outbox).where(col(Outbox.topic) == "item.checked")).all()) == 3 * LAUNCHES
    posted = [call for call in posts(fake_slack) if call.answered in {"ok", "hang"}]  # "lost" posts did nothing
    stored = [message for messages in fake_slack.messages.values() for message in messages]
    remembered = seeded.exec(select(SlackMessage)).all()
    # Per launch: each team's gate message, and the region's "checklist gate passed" once.
    assert len(posted) == len(stored) == len(remembered) == 3 * LAUNCHES
    assert sorted(m.kind for m in remembered) == ["gate.opened"] * 2 * LAUNCHES + ["gate.passed"] * LAUNCHES
    for message in remembered:
        (shown,) = [m for m in fake_slack.messages[message.channel] if m.ts == message.ts]
        assert (shown.text, shown.blocks) == (message.text, message.blocks)
        if message.kind != "gate.opened":
            continue
        (now_rendered,) = [
            envelope
            for envelope in composer.gate_envelopes(seeded, rollout_id=message.rollout_id, phase=message.phase)
            if envelope.audience == message.audience
        ]
        assert now_rendered.messages[message.part].blocks == shown.blocks  # every check-off shows
        assert shown.edits >= 1
