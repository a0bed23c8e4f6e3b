"""Which database failures mean "unreachable for now" (``database_unavailable``): the API answers
them with 503 and Retry-After and the worker's loops wait them out, while every other error stays
an error. Built from the exceptions each driver raises, as SQLAlchemy wraps them."""

import asyncio

import asyncpg
import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from flows.server import free_port
from orchestrator.core.db import database_unavailable, make_async_engine, make_engine


def wrapped(
    error: Exception, kind: type[sa_exc.DBAPIError] = sa_exc.DBAPIError, *, connection_invalidated: bool = False
) -> Exception:
    return kind("SELECT 1", {}, error, connection_invalidated=connection_invalidated)


def async_adapted(error: Exception) -> Exception:
    """What SQLAlchemy's asyncpg adapter raises: its own DB-API error, from the asyncpg one."""
    translated = sa_exc.EmulatedDBAPIException(str(error), error)
    translated.__cause__ = error
    return wrapped(translated)


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (wrapped(psycopg.OperationalError("connection refused"), sa_exc.OperationalError), True),
        (wrapped(Exception("server closed the connection"), connection_invalidated=True), True),
        (async_adapted(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")), True),
        (async_adapted(asyncpg.exceptions.AdminShutdownError("terminating connection")), True),
        (async_adapted(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")), True),
        (sa_exc.TimeoutError("QueuePool limit of size 20 overflow 20 reached"), True),
        (wrapped(psycopg.IntegrityError("duplicate key"), sa_exc.IntegrityError), False),
        (async_adapted(asyncpg.exceptions.UniqueViolationError("duplicate key")), False),
        (ValueError("not a database error"), False),
        (ConnectionRefusedError("a socket nobody says is the database's"), False),
    ],
)
def test_only_an_unreachable_database_counts_as_unavailable(error: Exception, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


def test_the_check_off_pool_reports_a_refused_connection_as_operational_error() -> None:
    """asyncpg raises a bare ConnectionRefusedError, which SQLAlchemy passes on; the async twin
    turns it into the DB-API's OperationalError, as psycopg raises it on the other pool."""
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing")

    async def connect() -> None:
        twin = make_async_engine(engine)
        try:
            async with twin.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await twin.dispose()

    with pytest.raises(sa_exc.OperationalError) as refused:
        asyncio.run(connect())
    engine.dispose()
    assert "cannot connect to PostgreSQL" in str(refused.value)
    assert database_unavailable(refused.value)
