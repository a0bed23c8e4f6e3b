"""The console transport keeps what it shows in the database, for the dashboard (another process):
posts and updates with their count, only the newest few, refs that a restart never reuses, and a
failure to keep a copy never stops the delivery."""

import logging
from datetime import UTC, datetime, timedelta

from freezegun import freeze_time
from sqlmodel import col, select

from notifications.delivery.console_store import ConsoleStore, console_messages
from notifications.delivery.console_transport import ConsoleTransport
from notifications.delivery.slack_delivery import dispatch_notifications
from orchestrator.core.clock import as_utc
from orchestrator.core.db import make_engine
from orchestrator.core.models import ConsoleMessage, SlackMessage
from orchestrator.items.service import check_item
from orchestrator.launches.service import kick_off_launch
from tests.support.db import rows
from tests.support.factories import item, make_launch

T0 = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Marketing* owes 2 items"}}]


def kept(session):
    return rows(session, select(ConsoleMessage).order_by(col(ConsoleMessage.id)))


def test_posts_and_updates_are_kept_with_when_and_how_often(engine, session):
    console = ConsoleTransport(store=ConsoleStore(engine))
    with freeze_time(T0):
        first = console.post(channel="#launch-eu", text="Gate opened", blocks=BLOCKS)
    with freeze_time(T0 + timedelta(minutes=1)):
        console.post(channel="#launch-na", text="Gate opened", blocks=BLOCKS)
    with freeze_time(T0 + timedelta(minutes=2)):
        console.update(ref=first, text="1 left", blocks=[])
    with freeze_time(T0 + timedelta(minutes=3)):
        console.update(ref=first, text="0 left", blocks=BLOCKS)

    eu, na = kept(session)
    assert (eu.channel, eu.ts, eu.text, eu.blocks, eu.updates) == ("#launch-eu", first.ts, "0 left", BLOCKS, 2)
    assert (as_utc(eu.posted_at), as_utc(eu.updated_at)) == (T0, T0 + timedelta(minutes=3))
    assert (na.text, na.updates, as_utc(na.updated_at)) == ("Gate opened", 0, T0 + timedelta(minutes=1))
    page = console_messages(session=session)
    assert [message.channel for message in page.messages] == ["#launch-eu", "#launch-na"]  # last activity first


def test_only_the_newest_messages_are_kept(engine, session):
    console = ConsoleTransport(store=ConsoleStore(engine, keep=3))
    refs = []
    for minute in range(5):
        with freeze_time(T0 + timedelta(minutes=minute)):
            refs.append(console.post(channel="#launch-eu", text=f"message {minute}", blocks=[]))
    with freeze_time(T0 + timedelta(minutes=9)):
        console.update(ref=refs[2], text="message 2, edited", blocks=[])  # recent activity keeps it
        console.post(channel="#launch-eu", text="message 5", blocks=[])

    assert [row.text for row in kept(session)] == ["message 2, edited", "message 4", "message 5"]


def test_pages_of_messages_hold_fifty_and_a_page_past_the_end_shows_the_last(engine, session):
    console = ConsoleTransport(store=ConsoleStore(engine))
    for n in range(55):
        with freeze_time(T0 + timedelta(seconds=n)):
            console.post(channel="#launch-eu", text=f"message {n}", blocks=[])

    first = console_messages(session=session, page=1)
    last = console_messages(session=session, page=7)
    assert (first.page, first.pages, first.total, len(first.messages)) == (1, 2, 55, 50)
    assert first.messages[0].text == "message 54"
    assert (last.page, [m.text for m in last.messages]) == (2, [f"message {n}" for n in range(4, -1, -1)])


def test_a_restarted_console_never_reuses_the_refs_of_an_earlier_run(engine, session):
    """Refs are stored (here and in SlackMessage): reusing one would overwrite an old message's row."""
    before = ConsoleTransport(store=ConsoleStore(engine)).post(channel="#launch-eu", text="old", blocks=[])
    after = ConsoleTransport(store=ConsoleStore(engine)).post(channel="#launch-eu", text="new", blocks=[])

    assert before != after
    assert [(row.text, row.updates) for row in kept(session)] == [("old", 0), ("new", 0)]


def test_a_copy_that_cannot_be_kept_is_logged_and_the_message_still_delivered(tmp_path, caplog):
    no_table = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no schema: every write fails
    console = ConsoleTransport(store=ConsoleStore(no_table))
    try:
        with caplog.at_level(logging.INFO, logger="launchdeck.console"):
            ref = console.post(channel="#launch-eu", text="Gate opened", blocks=BLOCKS)
            console.update(ref=ref, text="edited", blocks=BLOCKS)
    finally:
        no_table.dispose()

    assert ref.channel == "#launch-eu"
    assert [m.text for m in console.messages] == ["edited"]
    assert "post to #launch-eu" in caplog.text  # shown in the log all the same
    assert "could not keep the post to #launch-eu" in caplog.text
    assert "could not keep the update to #launch-eu" in caplog.text


def test_delivering_through_the_console_keeps_every_message_it_posted_and_edited(seeded, actor, engine):
    launch = make_launch(seeded, actor, items=[item("press_kit", team="marketing"), item("faq", team="support")])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    console = ConsoleTransport(store=ConsoleStore(engine))
    dispatch_notifications(session=seeded, transport=console, now=T0, leadership_channel="#leaders")
    press_kit = next(row for row in launch_items(seeded, launch.id) if row.key == "press_kit")
    check_item(session=seeded, item_id=press_kit.id, actor=actor)
    dispatch_notifications(session=seeded, transport=console, now=T0, leadership_channel="#leaders")

    stored = {(row.channel, row.ts) for row in rows(seeded, select(SlackMessage))}
    copies = kept(seeded)
    assert {(row.channel, row.ts) for row in copies} == stored
    marketing = next(row for row in copies if row.channel == "#launch-marketing")
    assert marketing.updates == 1
    assert "Press kit" in str(marketing.blocks)


def launch_items(session, launch_id):
    from orchestrator.core.models import ChecklistItem

    return rows(session, select(ChecklistItem).where(ChecklistItem.launch_id == launch_id))
