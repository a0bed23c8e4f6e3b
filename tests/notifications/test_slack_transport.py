"""Transports: the real slack_sdk WebClient over HTTP against the loopback fake, and the console.

Every wait the transport makes (pacing, Retry-After, back-off) goes through an injected sleep
that only advances a fake clock, so these tests assert the waits instead of spending them. The
only real waiting is the client timeout in the hang tests (0.4 s per attempt).
"""

import logging
import socket
from datetime import UTC, datetime, timedelta

import pytest

from notifications.delivery.console_transport import ConsoleTransport
from notifications.delivery.slack_transport import SlackTransport
from notifications.delivery.transport import DeliveryFailed, DeliveryMarker, MessageRef, Transport
from orchestrator.core.errors import ConfigError, LaunchdeckError
from orchestrator.core.settings import Settings
from tests.support.fake_slack import TOKEN, FakeSlack, Reply, fake_slack  # noqa: F401  (fixture)

BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Gate opened: Apollo / EU / public beta"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Marketing* owes 2 items"}},
    {
        "type": "actions",
        "elements": [{"type": "button", "action_id": "item_done", "text": {"type": "plain_text", "text": "Done"}}],
    },
]


class FakeTime:
    """A clock that moves only when the code under test sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def make_transport(base_url: str, fake_time: FakeTime, **options) -> SlackTransport:
    options.setdefault("timeout", 5.0)  # generous: a loaded CI machine must not time out
    return SlackTransport(token=TOKEN, base_url=base_url, clock=fake_time.clock, sleep=fake_time.sleep, **options)


@pytest.fixture
def transport(fake_slack: FakeSlack, fake_time: FakeTime) -> SlackTransport:  # noqa: F811
    return make_transport(fake_slack.base_url, fake_time)


@pytest.fixture
def impatient(fake_slack: FakeSlack, fake_time: FakeTime) -> SlackTransport:  # noqa: F811
    """A short client timeout, for the tests where the fake holds its answer back."""
    return make_transport(fake_slack.base_url, fake_time, timeout=0.4)


# -- the happy path ---------------------------------------------------------------------------------


def test_post_returns_channel_and_ts_and_slack_got_the_blocks(transport, fake_slack):  # noqa: F811
    ref = transport.post(channel="C0EU", text="Gate opened", blocks=BLOCKS)

    assert ref.channel == "C0EU"
    assert ref.ts
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.body["blocks"] == BLOCKS
    assert call.body["text"] == "Gate opened"
    assert call.body["unfurl_links"] is False
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Content-Type"].startswith("application/json")
    [stored] = fake_slack.messages["C0EU"]
    assert (stored.ts, stored.blocks) == (ref.ts, BLOCKS)


def test_post_to_a_channel_name_returns_the_id_slack_resolved(transport, fake_slack):  # noqa: F811
    fake_slack.channel_ids["#launch-eu"] = "C0123EU"

    ref = transport.post(channel="#launch-eu", text="hi", blocks=[])

    assert ref.channel == "C0123EU"  # chat.update accepts only ids, so the ref must carry it


def test_update_changes_the_message_in_place(transport, fake_slack):  # noqa: F811
    ref = transport.post(channel="C0EU", text="2 open", blocks=BLOCKS)
    checked = [{"type": "section", "text": {"type": "mrkdwn", "text": "~Press kit~ done by @ana"}}]

    updated = transport.update(ref=ref, text="1 open", blocks=checked)

    assert updated == ref
    [stored] = fake_slack.messages["C0EU"]
    assert (stored.ts, stored.text, stored.blocks, stored.edits) == (ref.ts, "1 open", checked, 1)


def test_open_dm_and_verify(transport, fake_slack):  # noqa: F811
    assert transport.open_dm(user_id="U123") == "DU123"
    assert fake_slack.calls_to("conversations.open")[0].body["users"] == "U123"
    assert transport.verify() == "launchdeck in Fake Workspace"


def test_both_transports_satisfy_the_protocol(transport):
    assert isinstance(transport, Transport)
    assert isinstance(ConsoleTransport(), Transport)
    assert issubclass(DeliveryFailed, LaunchdeckError)


# -- retries ----------------------------------------------------------------------------------------


def test_429_waits_retry_after_then_succeeds(transport, fake_slack, fake_time):  # noqa: F811
    fake_slack.script("chat.postMessage", [Reply.rate_limited(1)])

    ref = transport.post(channel="C0EU", text="hi", blocks=BLOCKS)

    assert ref.ts
    assert [c.answered for c in fake_slack.calls_to("chat.postMessage")] == ["rate_limited", "ok"]
    assert fake_time.sleeps == [pytest.approx(1.0)]
    assert len(fake_slack.messages["C0EU"]) == 1


def test_429_beyond_the_retries_is_retryable_with_retry_after(fake_slack, fake_time):  # noqa: F811
    transport = make_transport(fake_slack.base_url, fake_time, rate_limit_retries=2)
    fake_slack.script("chat.postMessage", [Reply.rate_limited(1)] * 3)

    with pytest.raises(DeliveryFailed) as caught:
        transport.post(channel="C0EU", text="hi", blocks=BLOCKS)

    assert caught.value.retryable
    assert caught.value.retry_after == 1
    assert caught.value.slack_error == "ratelimited"
    assert len(fake_slack.calls_to("chat.postMessage")) == 3
    assert "C0EU" not in fake_slack.messages


def test_a_long_retry_after_is_handed_back_not_slept_through(transport, fake_slack, fake_time):  # noqa: F811
    fake_slack.script("chat.postMessage", [Reply.rate_limited(120)])

    with pytest.raises(DeliveryFailed) as caught:
        transport.post(channel="C0EU", text="hi", blocks=BLOCKS)

    assert (caught.value.retryable, caught.value.retry_after) == (True, 120)
    assert fake_time.sleeps == []
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_500_twice_then_ok_succeeds_after_backoff(transport, fake_slack, fake_time):  # noqa: F811
    fake_slack.script("chat.postMessage", [Reply.server_error(500), Reply.server_error(503)])

    ref = transport.post(channel="C0EU", text="hi", blocks=BLOCKS)

    assert ref.ts
    assert [c.answered for c in fake_slack.calls_to("chat.postMessage")] == ["server_error", "server_error", "ok"]
    assert len(fake_time.sleeps) == 2
    assert all(0 < s <= 2.0 for s in fake_time.sleeps)
    assert len(fake_slack.messages["C0EU"]) == 1


def test_500_beyond_the_retries_is_retryable(transport, fake_slack):  # noqa: F811
    fake_slack.script("chat.update", [Reply.server_error()] * 3)
    ref = transport.post(channel="C0EU", text="hi", blocks=BLOCKS)

    with pytest.raises(DeliveryFailed) as caught:
        transport.update(ref=ref, text="changed", blocks=BLOCKS)

    assert caught.value.retryable
    assert "HTTP 500" in caught.value.reason
    assert len(fake_slack.calls_to("chat.update")) == 3


def test_an_update_that_hangs_is_retried_and_succeeds(impatient, fake_slack):  # noqa: F811
    ref = impatient.post(channel="C0EU", text="hi", blocks=BLOCKS)
    fake_slack.script("chat.update", [Reply.hang()])

    assert impatient.update(ref=ref, text="changed", blocks=[]) == ref

    assert [c.answered for c in fake_slack.calls_to("chat.update")] == ["hang", "ok"]
    [stored] = fake_slack.messages["C0EU"]
    assert stored.text == "changed"


def test_an_update_that_keeps_hanging_is_retryable(impatient, fake_slack):  # noqa: F811
    ref = impatient.post(channel="C0EU", text="hi", blocks=BLOCKS)
    fake_slack.script("chat.update", [Reply.hang()] * 3)

    with pytest.raises(DeliveryFailed) as caught:
        impatient.update(ref=ref, text="changed", blocks=[])

    assert caught.value.retryable
    assert not caught.value.maybe_delivered
    assert len(fake_slack.calls_to("chat.update")) == 3


def test_a_post_that_hangs_is_not_sent_twice(impatient, fake_slack):  # noqa: F811
    """Slack did post it; the answer was lost. Retrying here would post a duplicate."""
    fake_slack.script("chat.postMessage", [Reply.hang()])

    with pytest.raises(DeliveryFailed) as caught:
        impatient.post(channel="C0EU", text="hi", blocks=BLOCKS)

    assert caught.value.retryable
    assert caught.value.maybe_delivered
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.messages["C0EU"]) == 1


def test_slack_unreachable_is_retried_then_retryable(fake_time):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = make_transport(f"http://127.0.0.1:{port}/api/", fake_time)

    with pytest.raises(DeliveryFailed) as caught:
        transport.post(channel="C0EU", text="hi", blocks=BLOCKS)

    assert caught.value.retryable
    assert not caught.value.maybe_delivered  # the connection was refused: nothing was sent
    assert len(fake_time.sleeps) == 2  # two connection retries, each after a back-off


# -- permanent errors -------------------------------------------------------------------------------


def test_channel_not_found_is_permanent_and_names_the_channel(transport, fake_slack):  # noqa: F811
    fake_slack.unknown_channels.add("C404")

    with pytest.raises(DeliveryFailed) as caught:
        transport.post(channel="C404", text="hi", blocks=BLOCKS)

    assert not caught.value.retryable
    assert caught.value.slack_error == "channel_not_found"
    assert "C404" in caught.value.reason
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # not retried


def test_not_in_channel_says_to_invite_the_app(transport, fake_slack):  # noqa: F811
    fake_slack.script("chat.postMessage", [Reply.error("not_in_channel")])

    with pytest.raises(DeliveryFailed) as caught:
        transport.post(channel="#launch-eu", text="hi", blocks=BLOCKS)

    assert not caught.value.retryable
    assert "invite the app to #launch-eu" in caught.value.reason


def test_a_bad_token_points_at_the_setting(fake_slack, fake_time):  # noqa: F811
    transport = SlackTransport(token="xoxb-wrong", base_url=fake_slack.base_url, sleep=fake_time.sleep)

    with pytest.raises(DeliveryFailed) as caught:
        transport.verify()

    assert not caught.value.retryable
    assert "LAUNCHDECK_SLACK_BOT_TOKEN" in caught.value.reason


def test_updating_a_vanished_message_is_permanent(transport, fake_slack):  # noqa: F811
    with pytest.raises(DeliveryFailed) as caught:
        transport.update(ref=MessageRef("C0EU", "1.000001"), text="x", blocks=[])

    assert not caught.value.retryable
    assert caught.value.slack_error == "message_not_found"
    assert "C0EU/1.000001" in caught.value.reason


def test_from_settings_needs_a_token():
    with pytest.raises(ConfigError, match="LAUNCHDECK_SLACK_BOT_TOKEN"):
        SlackTransport.from_settings(Settings(slack_bot_token=None))


def test_from_settings_uses_the_api_url(fake_slack):  # noqa: F811
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=fake_slack.base_url)
    assert SlackTransport.from_settings(settings).verify() == "launchdeck in Fake Workspace"


# -- pacing -----------------------------------------------------------------------------------------


def test_posts_to_one_channel_are_paced_one_per_second(transport, fake_time):
    for _ in range(3):
        transport.post(channel="C0EU", text="hi", blocks=[])

    assert fake_time.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]


def test_posts_to_different_channels_do_not_wait(transport, fake_time):
    for channel in ("C0EU", "C0NA", "C0APAC"):
        transport.post(channel=channel, text="hi", blocks=[])

    assert fake_time.sleeps == []


def test_pacing_sleeps_only_the_remainder(transport, fake_time):
    transport.post(channel="C0EU", text="hi", blocks=[])
    fake_time.now += 0.75  # building the next message took a while
    transport.post(channel="C0EU", text="hi", blocks=[])
    fake_time.now += 5
    transport.post(channel="C0EU", text="hi", blocks=[])

    assert fake_time.sleeps == [pytest.approx(0.25)]


# -- console ----------------------------------------------------------------------------------------


def test_console_returns_increasing_refs_and_keeps_messages(caplog):
    console = ConsoleTransport(logging.getLogger("test.console"), keep=2)

    with caplog.at_level(logging.INFO, logger="test.console"):
        first = console.post(channel="#launch-eu", text="Gate opened", blocks=BLOCKS)
        second = console.post(channel="#launch-na", text="Gate opened", blocks=[])
        console.update(ref=first, text="1 left", blocks=BLOCKS[:1])

    assert first.ts.startswith("console.")
    assert second.ts[-6:] > first.ts[-6:]
    assert first.channel == "#launch-eu"
    assert [(m.ref, m.text, m.updates) for m in console.messages] == [(first, "1 left", 1), (second, "Gate opened", 0)]
    assert "Gate opened: Apollo / EU / public beta" in caplog.text
    assert "[ Done ]" in caplog.text

    third = console.post(channel="#launch-eu", text="third", blocks=[])
    assert [m.ref for m in console.messages] == [second, third]  # only the last `keep` stay
    assert console.open_dm(user_id="U1") == "dm:U1"


def test_open_view_sends_the_modal_to_views_open(fake_slack):  # noqa: F811
    from notifications.inbound.follow_ups import ViewOpener

    transport = SlackTransport(token=TOKEN, base_url=fake_slack.base_url, timeout=5, sleep=lambda _s: None)
    assert isinstance(transport, ViewOpener)
    modal = {
        "type": "modal",
        "callback_id": "waive_submit",
        "title": {"type": "plain_text", "text": "Waive"},
        "blocks": [],
    }
    transport.open_view(trigger_id="123.456.abc", view=modal)
    (call,) = fake_slack.calls_to("views.open")
    assert call.body["trigger_id"] == "123.456.abc"
    assert "waive_submit" in str(call.body["view"])


# -- finding a post whose answer was lost -----------------------------------------------------------

MARKER = DeliveryMarker(outbox_id=7, key="gate.opened:rollout:3:public_beta", audience="team:2", part=0)


def test_a_post_carries_its_marker_and_is_found_again_by_channel_name(transport, fake_slack):  # noqa: F811
    since = datetime.now(UTC) - timedelta(minutes=1)
    posted = transport.post(channel="#launch-eu", text="hi", blocks=BLOCKS, marker=MARKER)
    fresh = make_transport(fake_slack.base_url, FakeTime())  # knows no channel ids yet

    found = fresh.find_posted(channel="#launch-eu", marker=MARKER, since=since)

    assert found == posted
    assert fake_slack.messages[posted.channel][0].metadata == MARKER.as_metadata()
    assert len(fake_slack.calls_to("conversations.list")) == 1  # the name was looked up once
    history = fake_slack.calls_to("conversations.history")
    assert history[0].body["channel"] == posted.channel
    assert history[0].body["include_all_metadata"] in {"1", "true", "True"}


def test_a_marker_of_another_part_or_an_older_message_is_not_a_match(transport, fake_slack):  # noqa: F811
    transport.post(channel="C0EU", text="part 0", blocks=BLOCKS, marker=MARKER)
    other_part = DeliveryMarker(outbox_id=7, key=MARKER.key, audience="team:2", part=1)

    assert (
        transport.find_posted(channel="C0EU", marker=other_part, since=datetime.now(UTC) - timedelta(minutes=1)) is None
    )
    assert transport.find_posted(channel="C0EU", marker=MARKER, since=datetime.now(UTC) + timedelta(minutes=1)) is None


def test_finding_pages_through_a_busy_channel(transport, fake_slack, monkeypatch):  # noqa: F811
    import notifications.delivery.slack_transport as slack_transport

    monkeypatch.setattr(slack_transport, "HISTORY_PAGE_SIZE", 2)
    since = datetime.now(UTC) - timedelta(minutes=1)
    transport.post(channel="C0EU", text="ours", blocks=BLOCKS, marker=MARKER)
    for n in range(5):
        transport.post(channel="C0EU", text=f"chatter {n}", blocks=BLOCKS)

    assert transport.find_posted(channel="C0EU", marker=MARKER, since=since) is not None
    assert len(fake_slack.calls_to("conversations.history")) == 3


def test_a_channel_slack_does_not_know_has_nothing_to_find(transport, fake_slack):  # noqa: F811
    assert transport.find_posted(channel="#nowhere", marker=MARKER, since=datetime.now(UTC)) is None
    assert fake_slack.calls_to("conversations.history") == []


def test_history_without_the_scope_is_a_permanent_failure_naming_it(transport, fake_slack):  # noqa: F811
    fake_slack.script("conversations.history", [Reply.error("missing_scope")])

    with pytest.raises(DeliveryFailed) as caught:
        transport.find_posted(channel="C0EU", marker=MARKER, since=datetime.now(UTC))

    assert not caught.value.retryable
    assert "scope" in caught.value.reason


def test_the_console_transport_finds_its_own_marked_messages():
    console = ConsoleTransport()
    ref = console.post(channel="#launch-eu", text="hi", blocks=BLOCKS, marker=MARKER)
    console.update(ref=ref, text="edited", blocks=BLOCKS)

    assert console.find_posted(channel="#launch-eu", marker=MARKER, since=datetime.now(UTC)) == ref
    assert console.find_posted(channel="#launch-na", marker=MARKER, since=datetime.now(UTC)) is None
