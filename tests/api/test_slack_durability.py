"""Nothing acknowledged is lost (issue #18): a real API process is killed with SIGKILL right after
acknowledging a burst of Slack clicks, and a new one on the same database applies every click,
none twice, clicks on one item in the order they were recorded. On SQLite and PostgreSQL.

The first process's click processor stalls after three clicks (tests/support/slack_processes.py),
so the kill finds clicks applied, claimed but unfinished (their leases must run out) and pending,
however fast the machine. Waits are polls with a deadline, never sleeps."""

import signal
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, select

from orchestrator.core.enums import InteractionStatus, ItemStatus
from orchestrator.core.models import AuditEvent, ChecklistItem, SlackInteraction
from tests.support.flows import wait_for
from tests.support.slack_clicks import click, interactions
from tests.support.slack_http import Recorder, SlackClient
from tests.support.slack_processes import APPLY_FIRST, start_api

# 20 clicks: every item clicked two to four times, double clicks included (blog, blog; demo, demo).
BURST = [0, 1, 2, 2, 3, 4, 4, 5, 0, 1, 3, 5, 0, 2, 4, 1, 3, 5, 0, 2]
FAST = {"LAUNCHDECK_SLACK_INTERACTION_LEASE_SECONDS": "1", "LAUNCHDECK_SLACK_INTERACTION_POLL_SECONDS": "0.1"}


def done_at(row: SlackInteraction) -> datetime:
    assert row.done_at is not None, row
    return row.done_at


def test_a_killed_api_loses_no_acknowledged_click_and_applies_none_twice(engine, clickable, tmp_path: Path):
    url = engine.url.render_as_string(hide_password=False)
    log = tmp_path / "api.log"
    first, base = start_api(url, "tests.support.slack_processes:stalling_app", log, **FAST, **{APPLY_FIRST: "3"})
    try:
        client = SlackClient(base, Recorder(), {}, "acme-assistant")
        with ThreadPoolExecutor(max_workers=5) as pool:
            answers = list(pool.map(lambda index: client.interact(click(clickable[index])), BURST))
        assert [answer.status_code for answer in answers] == [200] * len(BURST)
        # Kill once the processor holds a claim it will not finish: acknowledgements can all be
        # out before it has applied its three and claimed the next.
        wait_for(lambda: any(row.status == InteractionStatus.CLAIMED for row in interactions(engine)), timeout=30)
    finally:
        first.send_signal(signal.SIGKILL)  # right after the acknowledgements, with a claim held
        first.wait(timeout=30)
    killed = interactions(engine)
    assert len(killed) == len(BURST)  # every acknowledged click was recorded before its answer
    unfinished = [row for row in killed if row.status != InteractionStatus.DONE]
    assert len(unfinished) >= len(BURST) - 3, [row.status for row in killed]

    second, _base = start_api(url, "api.app:serving_app", log, **FAST)
    try:
        wait_for(
            lambda: all(row.status == InteractionStatus.DONE for row in interactions(engine)), timeout=30, interval=0.05
        )
    finally:
        second.terminate()
        second.wait(timeout=30)

    with Session(engine) as session:
        statuses = {row.id: row.status for row in session.exec(select(ChecklistItem))}
        checked = session.exec(select(AuditEvent.entity_id).where(AuditEvent.action == "item.checked")).all()
    assert all(statuses[item_id] == ItemStatus.DONE for item_id in clickable)
    assert Counter(checked) == Counter(clickable)  # each item checked off once, however often clicked
    finished = interactions(engine)
    by_item: dict[str, list[SlackInteraction]] = defaultdict(list)
    for row in finished:
        by_item[row.ordering_key].append(row)
    for rows in by_item.values():  # applied in the order recorded, one at a time
        assert [done_at(row) for row in rows] == sorted(done_at(row) for row in rows)
    assert any(row.attempts > 1 for row in finished)  # a killed claim was taken over after its lease
