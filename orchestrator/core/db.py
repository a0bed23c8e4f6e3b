"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL (readers never block the writer), foreign keys, a busy timeout, and
``BEGIN IMMEDIATE`` for every write transaction (the services mark theirs with ``WRITE_INTENT``):
a deferred transaction lets two writers both read "open" and both pass a gate, which is exactly
the race the services must not have. Read-only transactions stay deferred so a page or a test
holding a read open never blocks a writer.
PostgreSQL serialises writers per rollout with ``SELECT ... FOR UPDATE`` in the services instead.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import Connection, Engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import await_
from sqlmodel import Session, create_engine

from orchestrator.core.pg_utc import read_timestamps_in_utc

SQLITE_BUSY_TIMEOUT_MS = 30_000
# PostgreSQL connections kept open: as many as the API's request threads that can hold one at a
# time under a normal load, so a busy minute reuses connections instead of opening (and closing)
# one per request past the pool; the overflow covers anyio's default 40 worker threads. The async
# twin keeps as many: with 10, twenty check-offs at once closed and reopened the overflow
# connections all the time (asyncpg's setup and statement preparation each time), and a check-off
# cost 5.1 ms of server CPU instead of 3.6.
POSTGRES_POOL_SIZE = 20
POSTGRES_MAX_OVERFLOW = 20
# Execution option a write transaction is begun with (see ``services._unit.transaction``).
WRITE_INTENT = "launchdeck_write_intent"
# Async drivers for the same databases: asyncpg speaks PostgreSQL's binary protocol from C on the
# event loop; aiosqlite runs sqlite3 in a thread of its own per connection.
_ASYNC_DRIVERS = {"postgresql": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
# The PostgreSQL URL's query is libpq's (psycopg passes it on); asyncpg takes only these of its
# parameters, as connect arguments of its own. ``host`` and ``port`` (a socket directory, several
# hosts) stay in the URL, which SQLAlchemy's asyncpg dialect reads.
_IN_URL = frozenset({"host", "port"})
_AS_CONNECT_ARGUMENT: dict[str, Callable[[str], tuple[str, Any]]] = {
    "sslmode": lambda value: ("ssl", value),  # the same mode names
    "connect_timeout": lambda value: ("timeout", float(value)),
    "application_name": lambda value: ("server_settings", {"application_name": value}),
}
SUPPORTED_POSTGRES_PARAMETERS = tuple(sorted(_IN_URL | set(_AS_CONNECT_ARGUMENT)))
# What an asyncpg connection raises once its server has gone (restarted, or the backend was
# terminated): the pool's pre-ping answers "disconnected" for these, and the pool reconnects.
_CONNECTION_GONE = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError)
# What says "the database cannot be reached right now" rather than "the database refused this
# statement": PostgreSQL down, restarting ("the database system is starting up") or shutting down,
# a connection cut mid-transaction, the pool out of connections, SQLite's write lock timing out.
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InterfaceError,
)


class UnsupportedDatabaseParameter(ValueError):
    """A PostgreSQL URL parameter one of launchdeck's two drivers would not understand."""

    def __init__(self, name: str, problem: str | None = None) -> None:
        if problem is None:
            supported = ", ".join(SUPPORTED_POSTGRES_PARAMETERS)
            problem = (
                f"is not supported (supported: {supported}); remove it, or set it on the server or the "
                "role (ALTER ROLE ... SET ...)"
            )
        super().__init__(f"the database URL parameter {name!r} {problem}")


def postgres_async_url(url: URL) -> tuple[URL, dict[str, Any]]:
    """``url`` for asyncpg, and the connect arguments its libpq parameters become. Raises
    ``UnsupportedDatabaseParameter`` for one it would drop or refuse, so a setting such as
    sslmode never holds on one engine and not on the other."""
    connect_args: dict[str, Any] = {}
    for name, value in url.query.items():
        if name in _IN_URL:
            continue
        if isinstance(value, tuple) or name not in _AS_CONNECT_ARGUMENT:  # a tuple: given twice
            raise UnsupportedDatabaseParameter(name)
        if name == "connect_timeout" and not value.isdigit():
            raise UnsupportedDatabaseParameter(name, f"must be a whole number of seconds, not {value!r}")
        argument, converted = _AS_CONNECT_ARGUMENT[name](value)
        connect_args[argument] = converted
    kept = {name: value for name, value in url.query.items() if name in _IN_URL}
    return url.set(drivername=_ASYNC_DRIVERS["postgresql"], query=kept), connect_args


def database_unavailable(error: BaseException) -> bool:
    """True when ``error`` means the database is unreachable for now, so the same request is worth
    repeating shortly: the API answers 503 with Retry-After, the worker's loops wait and go on.
    Follows the chain SQLAlchemy and the async adapter wrap the driver's error in."""
    seen: BaseException | None = error
    for _depth in range(6):
        if seen is None:
            return False
        if isinstance(seen, _UNAVAILABLE):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        wrapped = getattr(seen, "orig", None)
        seen = wrapped if isinstance(wrapped, BaseException) else seen.__cause__
    return False


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
    engine = create_engine(
        url, echo=echo, pool_pre_ping=True, pool_size=POSTGRES_POOL_SIZE, max_overflow=POSTGRES_MAX_OVERFLOW
    )
    read_timestamps_in_utc(engine)
    return engine


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
    if backend == "sqlite":
        timeout = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        url = engine.url.set(drivername=_ASYNC_DRIVERS[backend])
        async_engine = create_async_engine(url, echo=engine.echo, connect_args=timeout)
        _configure_sqlite(async_engine.sync_engine)
        return async_engine
    url, connect_args = postgres_async_url(engine.url)
    async_engine = create_async_engine(
        url,
        echo=engine.echo,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
    )
    async_engine.sync_engine.dialect.do_ping = _ping_in_one_round_trip  # type: ignore[method-assign]
    event.listen(async_engine.sync_engine, "do_connect", _connect_or_operational_error)
    return async_engine


def _connect_or_operational_error(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
    """Open an asyncpg connection; a socket error (the server refused, or is not there) becomes
    the DB-API's OperationalError, as psycopg raises it. asyncpg raises the bare ``OSError`` and
    SQLAlchemy passes it on unwrapped, so without this a PostgreSQL that is down looked like any
    other bug to the API (a 500) instead of "unavailable, retry shortly" (a 503)."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as error:
        raise dialect.loaded_dbapi.OperationalError(f"cannot connect to PostgreSQL: {error}") from error


def _ping_in_one_round_trip(dbapi_connection: Any) -> bool:
    """The pre-ping of the async twin's pool: an empty query, one round trip.

    Why not SQLAlchemy's own asyncpg ping: it wraps the empty query in BEGIN and ROLLBACK (for
    PgBouncer in transaction mode, which launchdeck does not use), three round trips on every
    checkout, 4-6% of a check-off's server CPU on loopback (BENCHMARKS.md). It still
    catches a connection whose server has gone, so the pool reconnects instead of failing."""
    try:
        await_(dbapi_connection.driver_connection.fetchrow(";"))
    except _CONNECTION_GONE:
        return False
    return True


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
