"""Hearing that work was committed the moment it is, instead of at the next poll.

Every change that gives the worker something to do queues an outbox row in its own transaction
(a region made ready, an exposure change for the target, a Slack message, a retried intent). So
the signal is sent in one place, the outbox table itself:

- **PostgreSQL**: triggers on ``outbox`` (migration 0021) send ``NOTIFY launchdeck_wake`` with the
  row's topic as payload, once per topic per statement: the queued rows of every INSERT, and rows
  an UPDATE makes pending again (a hand retry). NOTIFY is transactional: listeners hear it when
  the transaction commits and never when it rolls back. A trigger rather than a ``pg_notify``
  call in the services because it costs no round trip (the check-off path counts them) and no
  writer can forget it: the services, their bulk inserts and raw SQL alike. ``listen`` holds a
  connection of its own with ``LISTEN`` on it and reconnects when that connection dies.
  ``QUIET_TOPICS`` (the item topics, queued by every check-off) send nothing: PostgreSQL
  serializes the commits that notify, which halved one-row commits per second here, and a
  check-off that moves a region queues a gate and a rollout topic besides (BENCHMARKS.md).
- **SQLite** (one machine, no NOTIFY): ``listen`` polls ``PRAGMA data_version`` on a connection of
  its own every ``SQLITE_CHECK_SECONDS``. The number changes when any other connection commits a
  change to the file, and only then (a rollback leaves the file as it was); reading it is a few
  microseconds with no lock taken. No writer takes part, so no writer can forget to, and any number
  of watchers can watch one file. It does not say what changed, so every consumer wakes.
  BENCHMARKS.md ("Instant wake") has the latency and the idle cost against the alternatives.

Waking is only ever early: a consumer still polls on its own interval, which stays the safety
net for what no commit announces (a ramp hold running out, a lease expiring, a lost wake while
the listener reconnects, which is why every (re)connection wakes everyone once).
"""

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from orchestrator.core.db import is_sqlite

log = logging.getLogger("launchdeck.wake")

CHANNEL = "launchdeck_wake"
# Where the Slack inbox's trigger (migration 0022) announces recorded clicks waiting to be applied:
# a channel of its own, so a burst of clicks wakes the Slack applier (`launchdeck slack-applier`)
# and never the worker's loops, which the outbox channel rings.
INBOX_CHANNEL = "launchdeck_slack_inbox"
# Outbox topics queued without a NOTIFY (a LIKE pattern, as the trigger of migration 0021 has it).
QUIET_TOPICS = "item.%"
# How often the SQLite watcher reads data_version: the worst wake latency (median 6 ms), at an
# idle cost of about 0.4% of a core (BENCHMARKS.md, "Instant wake").
SQLITE_CHECK_SECONDS = 0.01
# How long the PostgreSQL listener waits for notifications before it checks whether it should stop,
# and after how long without any it makes sure its connection still answers. A terminated backend
# is noticed at once (its socket closes); the query finds a connection that went quiet otherwise.
POSTGRES_CHECK_SECONDS = 0.2
POSTGRES_PING_SECONDS = 5.0
# Waits between attempts to reconnect a lost listener: doubling from the first to the last.
RECONNECT_SECONDS = (0.1, 5.0)

# What a lost or refused connection raises (opening it through the engine, or using it after).
_CONNECTION_FAILURES = (DBAPIError, psycopg.Error, sqlite3.Error, OSError)

# ``on_wake(topic)``: the outbox topic committed (PostgreSQL), or None when it is not known (SQLite,
# or after a (re)connection, when anything may have been committed unheard).
OnWake = Callable[[str | None], None]


@dataclass
class Listener:
    """What a running ``listen`` reports, for logs and tests: connections made so far, checks done
    (SQLite: data_version reads; PostgreSQL: waits for notifications), and the PostgreSQL
    backend's process id (to end that connection from outside in a test)."""

    connections: int = 0
    checks: int = 0
    backend_pid: int | None = None
    connected: threading.Event = field(default_factory=threading.Event)


def listen(
    engine: Engine,
    *,
    on_wake: OnWake,
    stop: threading.Event,
    listener: Listener | None = None,
    channel: str = CHANNEL,
) -> None:
    """Call ``on_wake`` for each commit that queued outbox rows (or, with ``INBOX_CHANNEL``, that
    recorded Slack clicks to apply), until ``stop`` is set; blocks. ``channel`` matters on
    PostgreSQL only: SQLite's watcher hears every commit.

    A lost connection (the database restarted, the backend terminated) is opened again, waiting
    longer after each failure; each (re)connection calls ``on_wake(None)`` once."""
    state = listener if listener is not None else Listener()
    wait = RECONNECT_SECONDS[0]
    while not stop.is_set():
        try:
            if is_sqlite(engine):
                _watch_sqlite(engine, on_wake=on_wake, stop=stop, state=state)
            else:
                _listen_postgres(engine, on_wake=on_wake, stop=stop, state=state, channel=channel)
            wait = RECONNECT_SECONDS[0]
        except _CONNECTION_FAILURES as exc:  # reconnect; the loops' poll covers meanwhile
            state.connected.clear()
            log.warning("wake listener lost its connection (%s); reconnecting in %.1fs", exc, wait)
            stop.wait(wait)
            wait = min(wait * 2, RECONNECT_SECONDS[1])


def start_listening(
    engine: Engine, *, on_wake: OnWake, stop: threading.Event, name: str, channel: str = CHANNEL
) -> tuple[threading.Thread, Listener]:
    """``listen`` on a daemon thread of its own; returns the thread and what it reports."""
    state = Listener()
    thread = threading.Thread(
        target=listen,
        kwargs={"engine": engine, "on_wake": on_wake, "stop": stop, "listener": state, "channel": channel},
        name=name,
        daemon=True,
    )
    thread.start()
    return thread, state


def _own_connection(engine: Engine) -> Any:
    """A DBAPI connection made with the engine's settings but outside its pool, held for as long
    as the listener runs (a pooled one would be taken from the services for good)."""
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    pooled.detach()
    return connection


def _listen_postgres(engine: Engine, *, on_wake: OnWake, stop: threading.Event, state: Listener, channel: str) -> None:
    connection = _own_connection(engine)
    try:
        connection.rollback()  # leave the transaction the pool's pre-ping may have begun
        connection.autocommit = True
        connection.execute(f"LISTEN {channel}")
        state.backend_pid = connection.info.backend_pid
        state.connections += 1
        state.connected.set()
        on_wake(None)
        heard_at = time.monotonic()
        while not stop.is_set():
            for notification in connection.notifies(timeout=POSTGRES_CHECK_SECONDS):
                heard_at = time.monotonic()
                on_wake(notification.payload)
            state.checks += 1
            if time.monotonic() - heard_at > POSTGRES_PING_SECONDS:
                connection.execute("SELECT 1")
                heard_at = time.monotonic()
    finally:
        state.connected.clear()
        _close_quietly(connection)


def _watch_sqlite(engine: Engine, *, on_wake: OnWake, stop: threading.Event, state: Listener) -> None:
    connection = _own_connection(engine)
    try:
        seen = connection.execute("PRAGMA data_version").fetchone()[0]
        state.connections += 1
        state.connected.set()
        on_wake(None)
        while not stop.wait(SQLITE_CHECK_SECONDS):
            version = connection.execute("PRAGMA data_version").fetchone()[0]
            state.checks += 1
            if version != seen:
                seen = version
                on_wake(None)
    finally:
        state.connected.clear()
        _close_quietly(connection)


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # a connection that died may not close cleanly; it is gone either way
        log.debug("closing the wake listener's connection failed", exc_info=True)
