"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL (readers never block the writer), foreign keys, a busy timeout, and
``BEGIN IMMEDIATE`` for every write transaction (the services mark theirs with ``WRITE_INTENT``):
a deferred transaction lets two writers both read "open" and both pass a gate, which is exactly
the race the services must not have. Read-only transactions stay deferred so a page or a test
holding a read open never blocks a writer.
PostgreSQL serialises writers per rollout with ``SELECT ... FOR UPDATE`` in the services instead.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL connections kept open: as many as the API's request threads that can hold one at a
# time under a normal load, so a busy minute reuses connections instead of opening (and closing)
# one per request past the pool; the overflow covers anyio's default 40 worker threads.
POSTGRES_POOL_SIZE = 20
POSTGRES_MAX_OVERFLOW = 20
# The async twin's pool (``make_async_engine``): requests on the event loop wait for a connection
# without holding a thread, so fewer connections serve the same load.
POSTGRES_ASYNC_POOL_SIZE = 10
POSTGRES_ASYNC_MAX_OVERFLOW = 10
# Async drivers for the same databases: asyncpg speaks PostgreSQL's binary protocol from C on the
# event loop; aiosqlite runs sqlite3 in a thread of its own per connection.
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
# Execution option a write transaction is begun with (see ``services._unit.transaction``).
WRITE_INTENT = "launchdeck_write_intent"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with launchdeck's connection rules for the URL's backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=POSTGRES_MAX_OVERFLOW
    )


def make_async_engine(engine: Engine) -> AsyncEngine:
    """An async engine on ``engine``'s database, with the same connection rules.

    Why: a request served on the event loop (``AsyncSession.run_sync`` runs the same sync
    services, switching to the loop at each statement) skips the thread-pool hop and the GIL
    hand-offs of a driver blocking in threads; the check-off costs about half the CPU that way
    (BENCHMARKS.md). The services see an ordinary ``Session``, so their rules, locks and
    transactions are the same on both engines."""
    backend = engine.url.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise ValueError(f"no async driver for a {backend} database; use PostgreSQL or SQLite")
    url = engine.url.set(drivername=_ASYNC_DRIVERS[backend])
    if backend == "sqlite":
        timeout = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        async_engine = create_async_engine(url, echo=engine.echo, connect_args=timeout)
        _configure_sqlite(async_engine.sync_engine)
        return async_engine
    return create_async_engine(
        url,
        echo=engine.echo,
        pool_pre_ping=True,
        pool_size=POSTGRES_ASYNC_POOL_SIZE,
        max_overflow=POSTGRES_ASYNC_MAX_OVERFLOW,
    )


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so "begin" below decides how to begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(WRITE_INTENT, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose objects stay readable after the services commit."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
