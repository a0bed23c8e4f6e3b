"""Times read back from PostgreSQL are in UTC even when the session's time zone is not (initdb
makes the server's default the machine's own zone): the pages and messages format them as UTC."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from orchestrator.core.db import make_async_engine, make_engine
from orchestrator.core.enums import Source
from orchestrator.core.models import AuditEvent

BERLIN_SESSION = "SET TIME ZONE 'Europe/Berlin'"
NINE_UTC = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.mark.postgres
def test_a_timestamptz_reads_back_in_utc_from_a_session_in_another_zone(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(BERLIN_SESSION))
            value = connection.execute(text("SELECT TIMESTAMPTZ '2027-01-10 09:00:00+00'")).scalar_one()
        assert (value, value.utcoffset()) == (NINE_UTC, UTC.utcoffset(None))
        assert f"{value:%Y-%m-%d %H:%M}" == "2027-01-10 09:00"  # what the pages print, then "UTC"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_row_read_through_the_orm_and_the_async_twin_carries_utc(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    async_engine = make_async_engine(engine)
    try:
        with engine.connect() as connection:
            connection.execute(text(BERLIN_SESSION))
            with Session(bind=connection) as session:
                session.add(
                    AuditEvent(entity="probe", action="probe.written", actor="probe", source=Source.CLI, at=NINE_UTC)
                )
                session.flush()
                # The column, not the entity: the session's entity is the one written above.
                stored = session.exec(select(AuditEvent.at).where(AuditEvent.action == "probe.written")).one()
                assert (stored, stored.tzinfo) == (NINE_UTC, UTC)
                session.rollback()

        async def read_on_the_twin() -> datetime:
            async with async_engine.connect() as connection:
                await connection.execute(text(BERLIN_SESSION))
                value: datetime = (
                    await connection.execute(text("SELECT TIMESTAMPTZ '2027-01-10 09:00:00+00'"))
                ).scalar_one()
                return value

        twin = asyncio.run(read_on_the_twin())
        assert (twin, twin.utcoffset()) == (NINE_UTC, UTC.utcoffset(None))
    finally:
        asyncio.run(async_engine.dispose())
        engine.dispose()
