"""The commit listener (orchestrator/core/wake.py) hears a transaction that queued outbox rows
when it commits, never one that rolled back, and keeps listening after its connection dies."""

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from orchestrator.core.clock import utcnow
from orchestrator.core.db import is_sqlite, make_engine
from orchestrator.core.enums import InteractionKind
from orchestrator.core.inbox import RECORD, interaction_row
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction
from orchestrator.core.wake import INBOX_CHANNEL, Listener, start_listening
from tests.support.flows import wait_for

Heard = tuple[list[str | None], Listener]


@pytest.fixture
def heard(engine: Engine) -> Iterator[Heard]:
    """A listener on the test database and the wakes it reported, after the one each connection gives."""
    wakes: list[str | None] = []
    stop = threading.Event()
    thread, listener = start_listening(engine, on_wake=wakes.append, stop=stop, name="wake-under-test")
    wait_for(lambda: wakes, timeout=10, interval=0.01)
    wakes.clear()
    yield wakes, listener
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def queue(engine: Engine, topic: Topic, *, commit: bool = True) -> None:
    with Session(engine) as session:
        if not commit:
            session.begin()
            enqueue(session, key=f"wake-{uuid.uuid4().hex}", topic=topic, launch_id=None, payload={})
            session.flush()
            session.rollback()
            return
        with transaction(session):
            enqueue(session, key=f"wake-{uuid.uuid4().hex}", topic=topic, launch_id=None, payload={})


def checks_pass(listener: Listener, count: int) -> None:
    """Wait until the listener has looked ``count`` more times (so it would have seen a change)."""
    target = listener.checks + count
    wait_for(lambda: listener.checks >= target, timeout=10, interval=0.005)


def test_a_committed_outbox_row_wakes_the_listener_at_once(engine, heard):
    wakes, _listener = heard
    queue(engine, Topic.TARGET_EXPOSURE)
    wait_for(lambda: wakes, timeout=2, interval=0.005)
    # PostgreSQL says which topic (so only the loop that delivers it wakes); SQLite cannot.
    assert wakes == ([None] if is_sqlite(engine) else [Topic.TARGET_EXPOSURE.value])


def test_a_rolled_back_transaction_wakes_nothing(engine, heard):
    wakes, listener = heard
    queue(engine, Topic.TARGET_EXPOSURE, commit=False)
    checks_pass(listener, 2 if is_sqlite(engine) else 0)  # SQLite: it read data_version after the rollback
    queue(engine, Topic.ROLLOUT_READY)  # PostgreSQL hands notifications over in commit order
    wait_for(lambda: wakes, timeout=2, interval=0.005)
    checks_pass(listener, 2 if is_sqlite(engine) else 0)
    assert wakes == ([None] if is_sqlite(engine) else [Topic.ROLLOUT_READY.value])


@pytest.mark.postgres
def test_item_topics_queue_no_notify_on_postgres(postgres_url):
    """A check-off's own topic: NOTIFY serializes the commits that send it, and a check-off that
    moves a region queues a gate and a rollout topic besides."""
    engine = make_engine(postgres_url)
    wakes: list[str | None] = []
    stop = threading.Event()
    thread, _listener = start_listening(engine, on_wake=wakes.append, stop=stop, name="wake-under-test")
    try:
        wait_for(lambda: wakes, timeout=10, interval=0.01)
        wakes.clear()
        queue(engine, Topic.ITEM_CHECKED)
        queue(engine, Topic.GATE_PASSED)  # in commit order: had the check-off notified, it came first
        wait_for(lambda: wakes, timeout=2, interval=0.005)
    finally:
        stop.set()
        thread.join(timeout=5)
        engine.dispose()
    assert wakes == [Topic.GATE_PASSED.value]


@pytest.mark.postgres
def test_the_listener_reconnects_after_its_connection_dies_and_wakes_everyone_once(postgres_url):
    engine = make_engine(postgres_url)
    wakes: list[str | None] = []
    stop = threading.Event()
    thread, listener = start_listening(engine, on_wake=wakes.append, stop=stop, name="wake-under-test")
    try:
        wait_for(lambda: listener.connections == 1 and wakes, timeout=10, interval=0.01)
        first_pid = listener.backend_pid
        admin_url = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first_pid,)).fetchone() == (True,)
        wait_for(lambda: listener.connections == 2 and listener.connected.is_set(), timeout=10, interval=0.01)
        queue(engine, Topic.ROLLOUT_READY)
        wait_for(lambda: Topic.ROLLOUT_READY.value in wakes, timeout=2, interval=0.005)
    finally:
        stop.set()
        thread.join(timeout=5)
        engine.dispose()
    assert listener.backend_pid != first_pid
    # One wake naming nothing per connection: what was committed while it was away is unknown.
    assert wakes == [None, None, Topic.ROLLOUT_READY.value]


def recorded(done: bool = False) -> dict[str, object]:
    kind = InteractionKind.BLOCK_ACTION
    return interaction_row(kind=kind, slack_user_id="U1", ordering_key="item:1", payload={}, now=utcnow(), done=done)


@pytest.mark.postgres
def test_recorded_clicks_notify_the_inbox_channel_once_per_statement_on_postgres(postgres_url):
    """Migration 0022: what wakes `launchdeck slack-applier`. A row recorded done (answered
    inline) has nothing left to apply; the outbox's listeners (the worker) never hear the inbox."""
    engine = make_engine(postgres_url)
    inbox: list[str | None] = []
    outbox: list[str | None] = []
    stop = threading.Event()
    threads = [
        start_listening(engine, on_wake=inbox.append, stop=stop, name="inbox", channel=INBOX_CHANNEL)[0],
        start_listening(engine, on_wake=outbox.append, stop=stop, name="outbox")[0],
    ]
    try:
        wait_for(lambda: inbox and outbox, timeout=10, interval=0.01)
        inbox.clear()
        outbox.clear()
        with engine.begin() as connection:
            connection.execute(RECORD, [recorded(done=True)])
        with engine.begin() as connection:
            connection.execute(RECORD, [recorded(), recorded()])  # a burst in one INSERT
        wait_for(lambda: inbox, timeout=2, interval=0.005)  # after the done row's, had it sent one
        queue(engine, Topic.GATE_PASSED)
        wait_for(lambda: outbox, timeout=2, interval=0.005)  # after the clicks', had they reached it
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
        engine.dispose()
    assert inbox == [""]
    assert outbox == [Topic.GATE_PASSED.value]
