"""`launchdeck slack-applier` as a real process (issue #21): with LAUNCHDECK_SLACK_APPLIER=process
the API only records and acknowledges a click and the applier applies it, woken by the commit; a
click whose applier crashed after claiming it is applied once by the next; two appliers and an
API process's own processor on one database apply each click once. On SQLite and PostgreSQL.
Waits are polls with a deadline, never sleeps."""

from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.app import create_app
from api.slack_work import FollowUps, SlackWork
from notifications.inbound.inbox import apply_claimed, record_of
from notifications.inbound.parsing import parse_payload
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import InteractionStatus, ItemStatus
from orchestrator.core.inbox import RECORD, claim_interactions
from orchestrator.core.models import AuditEvent, ChecklistItem, SlackInteraction
from orchestrator.core.settings import reset_settings
from tests.support.api import served
from tests.support.flows import wait_for
from tests.support.processes import stop
from tests.support.slack_clicks import click, interactions
from tests.support.slack_http import Recorder, SlackClient
from tests.support.slack_processes import applier_running, spawn_applier, start_applier

pytestmark = pytest.mark.slow
# Only a commit's wake (or the start-up sweep) applies a click within the tests' deadlines.
NO_SWEEP = {"LAUNCHDECK_SLACK_INTERACTION_POLL_SECONDS": "60"}


def record(engine: Engine, item_ids: list[int]) -> None:
    """Record clicks as the API does (one INSERT, api/slack_recording.py), without serving it."""
    rows = [record_of(click(item_id), parse_payload(click(item_id))).row(now=utcnow()) for item_id in item_ids]
    with engine.begin() as connection:
        connection.execute(RECORD, rows)


def all_done(engine: Engine) -> bool:
    rows = interactions(engine)
    return bool(rows) and all(row.status == InteractionStatus.DONE for row in rows)


def checked_off(engine: Engine) -> Counter[int | None]:
    with Session(engine) as session:
        return Counter(session.exec(select(AuditEvent.entity_id).where(AuditEvent.action == "item.checked")).all())


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_a_click_the_api_records_in_process_mode_is_applied_by_the_applier_process(
    engine, clickable, monkeypatch, tmp_path: Path
):
    monkeypatch.setenv("LAUNCHDECK_SLACK_APPLIER", "process")
    reset_settings()
    applier = start_applier(url_of(engine), tmp_path / "applier.log", **NO_SWEEP)
    try:
        app = create_app(engine=engine)
        with served(app) as base:
            assert not app.state.slack_work.accepting  # the API process applies nothing itself
            answer = SlackClient(base, Recorder(), {}, "acme-assistant").interact(click(clickable[0]))
            assert answer.status_code == 200
            wait_for(lambda: all_done(engine), timeout=20, interval=0.02)
    finally:
        stop(applier)
    [row] = interactions(engine)
    assert row.claimed_by is not None
    assert row.claimed_by.split(":")[1] == str(applier.pid)  # host:pid:...: applied by the applier
    assert checked_off(engine) == Counter([clickable[0]])
    assert "stopped" in (tmp_path / "applier.log").read_text()


def test_a_click_claimed_by_an_applier_that_crashed_is_applied_once_by_the_next(engine, clickable, tmp_path: Path):
    applied, crashed, waiting = clickable[:3]
    record(engine, [applied])
    long_ago = utcnow() - timedelta(minutes=5)
    with Session(engine, expire_on_commit=False) as session:  # the crashed applier got this far:
        [first] = claim_interactions(session, owner="dead:1:a", now=long_ago, lease_seconds=1, limit=1)
        assert apply_claimed(session, first, owner="dead:1:a", now=utcnow()) is not None  # one applied,
        record(engine, [crashed])
        claim_interactions(session, owner="dead:1:a", now=long_ago, lease_seconds=1, limit=1)  # one claimed
    record(engine, [waiting])  # and one recorded after it died

    applier = start_applier(url_of(engine), tmp_path / "applier.log", **NO_SWEEP)
    try:
        wait_for(lambda: all_done(engine), timeout=20, interval=0.02)
    finally:
        stop(applier)
    assert checked_off(engine) == Counter([applied, crashed, waiting])  # each once
    assert [(row.attempts, row.claimed_by == "dead:1:a") for row in interactions(engine)] == [
        (1, True),  # left as the crashed applier finished it
        (2, False),  # its expired claim taken over
        (1, False),
    ]


def test_two_appliers_and_an_api_processor_apply_each_click_once(engine, clickable, tmp_path: Path):
    logs = [tmp_path / "applier-1.log", tmp_path / "applier-2.log"]
    appliers = [spawn_applier(url_of(engine), log, **NO_SWEEP) for log in logs]
    for applier, log in zip(appliers, logs, strict=True):
        applier_running(applier, log)
    in_api = SlackWork(poll_seconds=60)  # the API path (LAUNCHDECK_SLACK_APPLIER=api) on the same database
    in_api.start(engine=engine, follow_ups=FollowUps(Recorder, Recorder))
    burst = [0, 1, 2, 2, 3, 4, 4, 5, 0, 1, 3, 5, 0, 2, 4, 1, 3, 5, 0, 2]  # double clicks included
    try:
        for start in range(0, len(burst), 5):  # four commits, each waking everyone
            record(engine, [clickable[index] for index in burst[start : start + 5]])
            in_api.wake()
        wait_for(lambda: len(interactions(engine)) == len(burst) and all_done(engine), timeout=30, interval=0.02)
    finally:
        in_api.stop()
        for applier in appliers:
            stop(applier)
    assert checked_off(engine) == Counter(clickable)  # each item once, however often clicked
    with Session(engine) as session:
        statuses = session.exec(select(ChecklistItem.status).where(col(ChecklistItem.id).in_(clickable))).all()
    assert set(statuses) == {ItemStatus.DONE}
    by_key: dict[str, list[SlackInteraction]] = defaultdict(list)
    for row in interactions(engine):
        by_key[row.ordering_key].append(row)
    for rows in by_key.values():  # clicks on one item applied one at a time, in the order recorded
        finished = [row.done_at for row in rows]
        assert finished == sorted(finished)  # type: ignore[type-var]
