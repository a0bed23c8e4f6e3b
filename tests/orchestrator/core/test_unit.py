"""The unit of work's row lock (orchestrator/core/unit.py) on PostgreSQL: locking a launch does not
wait for inserts that only reference it."""

import pytest
from sqlmodel import Session

from orchestrator.core.enums import Phase
from orchestrator.core.models import AuditEvent, Launch
from tests.support.factories import make_launch, past_dates


def test_locking_a_launch_does_not_wait_for_inserts_that_reference_it(engine, seeded, actor):
    """Audit and outbox inserts take a KEY SHARE lock on their launch; the services' row lock must
    not wait on it, or two regions going live together deadlock (seen under load)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has no row locks; BEGIN IMMEDIATE serialises writers instead")
    from sqlalchemy import text

    from orchestrator.core.unit import lock

    launch = make_launch(seeded, actor, regions=("EU",), dates=past_dates(phases={Phase.GA}))
    with Session(engine) as inserting, Session(engine) as locking:
        inserting.add(AuditEvent(launch_id=launch.id, entity="launch", action="test.insert", actor="t", source="cli"))
        inserting.flush()  # holds KEY SHARE on the launch row until the transaction ends
        locking.execute(text("SET LOCAL lock_timeout = '2s'"))
        locked = lock(locking, Launch, launch.id, "launch")  # fails with LockNotAvailable if it waits
        assert locked.id == launch.id
        locking.rollback()
        inserting.rollback()
