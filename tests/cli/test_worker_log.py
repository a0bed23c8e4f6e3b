"""Without Slack, the worker's log is where GTM messages show up: each one readable, as Slack would
show it (channel, text, buttons), in the file `launchdeck up` writes under .launchdeck/."""

import io
import os
import subprocess

import pytest
from sqlmodel import select

from cli.logs import show_launchdeck_logs
from notifications.delivery.console_store import ConsoleStore
from notifications.delivery.console_transport import ConsoleTransport
from notifications.delivery.slack_delivery import dispatch_notifications
from orchestrator.core.clock import utcnow
from orchestrator.core.models import ChecklistItem, ConsoleMessage
from orchestrator.items.service import check_item
from orchestrator.launches.service import kick_off_launch
from tests.support.db import rows
from tests.support.factories import item, make_launch
from tests.support.processes import LAUNCHDECK


def kicked_off(session, actor):
    launch = make_launch(session, actor, items=[item("press_kit", team="marketing"), item("faq", team="support")])
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    return launch


@pytest.mark.one_database(reason="log rendering (tests/ONE_DATABASE.md)")
def test_a_delivered_message_and_its_update_read_plainly_in_the_worker_log(seeded, actor, engine):
    launch = kicked_off(seeded, actor)
    out = io.StringIO()
    undo = show_launchdeck_logs(out)
    try:
        console = ConsoleTransport(store=ConsoleStore(engine))
        dispatch_notifications(session=seeded, transport=console, now=utcnow(), leadership_channel="#leaders")
        (press_kit,) = rows(seeded, select(ChecklistItem).where(ChecklistItem.key == "press_kit"))
        check_item(session=seeded, item_id=press_kit.id, actor=actor)
        dispatch_notifications(session=seeded, transport=console, now=utcnow(), leadership_channel="#leaders")
    finally:
        undo()

    log = out.getvalue()
    assert "INFO    launchdeck.console: post to #launch-marketing (console." in log
    assert "INFO    launchdeck.console: update in #launch-marketing (console." in log
    assert f"    {launch.name}" in log  # the header names the launch
    assert "    [ Done ] [ ⋯ " in log  # an open item's buttons
    assert "Press kit" in log
    assert "'type'" not in log  # not the blocks' JSON


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_server")
def test_the_worker_process_prints_the_messages_it_delivers_to_its_log(seeded, actor, engine, tmp_path):
    """What `launchdeck up` runs: `launchdeck worker` with its stdout in a file. Before, the file
    held only the start-up line: the console transport's INFO lines were dropped."""
    kicked_off(seeded, actor)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHDECK_SLACK_")}
    env["LAUNCHDECK_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        done = subprocess.run(
            [LAUNCHDECK, "worker", "--once"], env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=180, check=False
        )

    text = log.read_text()
    assert done.returncode == 0, text
    assert "launchdeck.console: post to #launch-marketing" in text
    assert "launchdeck.console: post to #launch-support" in text
    assert "[ Done ] [ ⋯ " in text
    assert {row.channel for row in rows(seeded, select(ConsoleMessage))} == {"#launch-marketing", "#launch-support"}
