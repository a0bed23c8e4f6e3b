"""The async twin of an engine (the check-off route's, orchestrator/db.py) keeps the sync engine's
connection rules on both backends, and a PostgreSQL URL means the same to both drivers: its
parameters carry over to asyncpg, or the URL is refused at start-up naming the parameter."""

import asyncio
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from api.app import create_app
from orchestrator.core.db import (
    WRITE_INTENT,
    UnsupportedDatabaseParameter,
    make_async_engine,
    make_engine,
    postgres_async_url,
)
from orchestrator.core.errors import ConfigError
from orchestrator.core.migrate import upgrade
from orchestrator.core.settings import get_settings, reset_settings
from tests.support.api import served


async def _settings_seen(engine: Engine) -> dict[str, str]:
    async_engine = make_async_engine(engine)
    try:
        async with async_engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                names = ("foreign_keys", "journal_mode", "busy_timeout")
                return {name: str((await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()) for name in names}
            value = (await connection.execute(text("SELECT current_setting('application_name')"))).scalar_one()
            return {"application_name": str(value)}
    finally:
        await async_engine.dispose()


def test_sqlite_twin_applies_the_same_pragmas(sqlite_engine: Engine) -> None:
    assert asyncio.run(_settings_seen(sqlite_engine)) == {
        "foreign_keys": "1",
        "journal_mode": "wal",
        "busy_timeout": "30000",
    }


def test_sqlite_twin_begins_writes_immediate(sqlite_engine: Engine) -> None:
    """A write transaction on the twin takes SQLite's write lock at BEGIN, as on the sync engine:
    a second writer is refused while it is open (here at once, with no busy timeout)."""

    async def hold_write_lock() -> str:
        async_engine = make_async_engine(sqlite_engine)
        try:
            async with async_engine.connect() as connection:
                await (await connection.execution_options(**{WRITE_INTENT: True})).begin()
                other = make_engine(str(sqlite_engine.url))
                try:
                    with other.connect() as blocked:
                        blocked.exec_driver_sql("PRAGMA busy_timeout=0")
                        try:
                            blocked.exec_driver_sql("BEGIN IMMEDIATE")
                        except OperationalError as exc:
                            return str(exc)
                        return "second writer got the lock"
                finally:
                    other.dispose()
        finally:
            await async_engine.dispose()

    assert "database is locked" in asyncio.run(hold_write_lock())


@pytest.mark.postgres
def test_postgres_url_parameters_reach_asyncpg(postgres_url: str) -> None:
    parameters = {"application_name": "launchdeck-twin", "connect_timeout": "5", "sslmode": "disable"}
    engine = make_engine(make_url(postgres_url).update_query_dict(parameters).render_as_string(hide_password=False))
    try:
        assert asyncio.run(_settings_seen(engine)) == {"application_name": "launchdeck-twin"}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_twin_pings_keeps_live_connections_and_replaces_killed_ones(postgres_url: str) -> None:
    """The twin's one-round-trip pre-ping runs on every checkout of a pooled connection. A live one
    passes and is reused (the same server process answers); one whose server side is gone (a
    PostgreSQL restart, a failover, an idle-session kill) fails it, and the pool reconnects, so the
    request after it still succeeds."""
    name = f"launchdeck-ping-{uuid.uuid4().hex[:8]}"
    engine = make_engine(make_url(postgres_url).update_query_dict({"application_name": name}).render_as_string(False))

    async def backend_pids_around_a_kill() -> tuple[list[int], int]:
        async_engine = make_async_engine(engine)

        async def backend_pid() -> int:
            async with async_engine.connect() as connection:
                return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())

        try:
            pids = [await backend_pid(), await backend_pid()]  # the second checkout is pinged
            admin_url = make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
            with psycopg.connect(admin_url, autocommit=True) as admin:
                ours = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,))
                killed = sum(bool(admin.execute("SELECT pg_terminate_backend(%s)", row).fetchone()) for row in ours)
            pids.append(await backend_pid())
            return pids, killed
        finally:
            await async_engine.dispose()

    try:
        (first, second, after_kill), killed = asyncio.run(backend_pids_around_a_kill())
    finally:
        engine.dispose()
    assert second == first
    assert killed == 1
    assert after_kill != first


def test_libpq_names_become_asyncpg_arguments() -> None:
    url, arguments = postgres_async_url(
        make_url("postgresql+psycopg://ops@/launchdeck?host=/var/run/postgresql&sslmode=require&connect_timeout=7")
    )
    assert url.drivername == "postgresql+asyncpg"
    assert dict(url.query) == {"host": "/var/run/postgresql"}
    assert arguments == {"ssl": "require", "timeout": 7.0}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("options=-csearch_path%3Dx", "'options' is not supported (supported: application_name, connect_timeout"),
        ("connect_timeout=soon", "'connect_timeout' must be a whole number of seconds, not 'soon'"),
    ],
)
def test_parameters_asyncpg_cannot_take_are_refused(query: str, message: str) -> None:
    with pytest.raises(UnsupportedDatabaseParameter, match="database URL parameter") as caught:
        postgres_async_url(make_url(f"postgresql+psycopg://ops@db.internal/launchdeck?{query}"))
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://ops@db.internal/launchdeck?options=-csearch_path%3Dx", "'options' is not supported"),
        ("postgresql+psycopg://ops@db.internal:port/launchdeck", "is not a database URL"),
    ],
)
def test_settings_refuse_such_a_url_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("LAUNCHDECK_DATABASE_URL", url)
    reset_settings()
    try:
        with pytest.raises(ConfigError) as caught:
            get_settings()
    finally:
        reset_settings()
    assert "LAUNCHDECK_DATABASE_URL" in caught.value.message
    assert message in caught.value.message


@pytest.mark.postgres
@pytest.mark.parametrize("blank_database_url", ["postgres"], indirect=True)
def test_readyz_fails_when_the_check_off_pool_cannot_connect(blank_database_url: str) -> None:
    """/readyz checks both of the app's pools. Here the database stops taking new connections
    while the routes' pool still holds one from start-up: the check-off's pool, which has none yet,
    cannot connect, so the app is not ready; it is again once connections are allowed."""
    database = make_url(blank_database_url).database
    engine = make_engine(blank_database_url)
    upgrade(engine)
    admin_url = make_url(blank_database_url).set(drivername="postgresql", database="postgres")
    try:
        with (
            served(create_app(engine=engine)) as base,
            psycopg.connect(admin_url.render_as_string(False), autocommit=True) as admin,
        ):
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            refused = httpx.get(f"{base}/readyz")
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            ready = httpx.get(f"{base}/readyz")
    finally:
        engine.dispose()
    assert refused.status_code == 503
    assert refused.json()["detail"].startswith("database unreachable from the check-off's pool:")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
