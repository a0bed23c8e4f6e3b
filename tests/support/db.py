"""Reads for tests on real databases: each returns what the database has now (not the session's
cached copy) and ends its read with a commit, since on SQLite every transaction begins IMMEDIATE
and holds the write lock until then (other sessions and threads would otherwise wait on it)."""

import pytest
from sqlalchemy import func, select

from orchestrator.core.models import AuditEvent, Gate, Outbox, Region, RegionRollout


def rows(session, statement):
    found = list(session.execute(statement.execution_options(populate_existing=True)).scalars())
    session.commit()  # end the read: SQLite's BEGIN IMMEDIATE would otherwise block the threads
    return found


def fresh(session, model, row_id):
    """The row as the database has it now (not the session's cached copy), as a dict."""
    row = session.execute(
        select(model).where(model.id == row_id).execution_options(populate_existing=True)
    ).scalar_one()
    session.commit()  # end the read: SQLite's BEGIN IMMEDIATE holds the write lock until then
    return row.model_dump()


def ledger(session):
    """(audit events, outbox rows): what every change writes, so a refused one must leave it."""
    counts = (
        session.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        session.execute(select(func.count()).select_from(Outbox)).scalar_one(),
    )
    session.commit()
    return counts


def audit(session, action):
    return rows(session, select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))


def outbox(session, topic):
    return rows(session, select(Outbox).where(Outbox.topic == topic).order_by(Outbox.id))


def rollout_id(session, launch, region="EU"):
    found = session.execute(
        select(RegionRollout.id)
        .join(Region, Region.id == RegionRollout.region_id)
        .where(RegionRollout.launch_id == launch.id, Region.code == region)
    ).scalar_one()
    session.commit()
    return found


def gate_of(session, rid, phase, kind):
    found = session.execute(
        select(Gate)
        .where(Gate.rollout_id == rid, Gate.phase == phase, Gate.kind == kind)
        .execution_options(populate_existing=True)
    ).scalar_one()
    session.commit()
    return found


# For a test whose subject is refused or answered before any query (request validation, Slack's
# signature, a malformed payload): the database behind the app makes no difference, so it runs on
# SQLite alone instead of twice (LAUNCHDECK_TEST_BOTH_DATABASES=1 runs it on both; tests/ONE_DATABASE.md).
before_any_query = pytest.mark.one_database(reason="refused or answered before any query")
