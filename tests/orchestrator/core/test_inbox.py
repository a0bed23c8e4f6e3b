"""The Slack inbox's claims (orchestrator/core/inbox.py) on SQLite and PostgreSQL: rows of one
ordering key are claimed one at a time in id order while other keys go alongside; a claim whose
lease ran out is taken over, and the processor that lost it commits nothing; a row's done mark
lands in the same commit as the change it asked for, or not at all; a row that keeps failing is
parked so it stops holding back its key. Times are passed explicitly (``now``)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from orchestrator.core.enums import InteractionKind, InteractionStatus
from orchestrator.core.errors import ClaimLost
from orchestrator.core.inbox import (
    MAX_ATTEMPTS,
    RECORD,
    TABLE,
    claim_interactions,
    close_claim,
    give_back,
    interaction_row,
    mark_done,
    settle_on_first_write,
)
from orchestrator.core.unit import transaction

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
LEASE = 30.0


def record(session: Session, key: str, *, now: datetime = T0) -> int:
    row = interaction_row(
        kind=InteractionKind.BLOCK_ACTION, slack_user_id="U1", ordering_key=key, payload={"n": key}, now=now
    )
    with transaction(session):
        inserted = session.connection().execute(RECORD.returning(TABLE.c.id), row)
        return int(inserted.scalar_one())


def claim(session: Session, owner: str, *, now: datetime = T0, limit: int = 10) -> list[int]:
    return [row.id for row in claim_interactions(session, owner=owner, now=now, lease_seconds=LEASE, limit=limit)]


def status(session: Session, row_id: int) -> InteractionStatus:
    found = session.execute(select(TABLE.c.status).where(TABLE.c.id == row_id)).scalar_one()
    session.commit()
    return InteractionStatus(found)


def test_clicks_on_one_item_are_claimed_one_at_a_time_in_arrival_order(session):
    first, second, third = (record(session, "item:1") for _ in range(3))
    other = record(session, "item:2")
    assert claim(session, "a") == [first, other]  # the first of each item, other items alongside
    assert claim(session, "b") == []  # the rest wait for the first of their item
    mark_done(session, interaction_id=first, owner="a", now=T0)
    assert claim(session, "b") == [second]
    mark_done(session, interaction_id=second, owner="b", now=T0)
    assert claim(session, "b") == [third]


def test_a_dead_processors_claim_is_taken_over_once_its_lease_runs_out(session):
    row = record(session, "item:1")
    assert claim(session, "dead") == [row]
    assert claim(session, "alive", now=T0 + timedelta(seconds=LEASE - 1)) == []  # still held
    assert claim(session, "alive", now=T0 + timedelta(seconds=LEASE + 1)) == [row]
    with pytest.raises(ClaimLost):
        mark_done(session, interaction_id=row, owner="dead", now=T0)  # too late: not its claim any more
    mark_done(session, interaction_id=row, owner="alive", now=T0)
    assert status(session, row) == InteractionStatus.DONE
    assert claim(session, "other", now=T0 + timedelta(hours=1)) == []  # done is never claimed again


def markers(session: Session) -> int:
    found = session.execute(
        select(func.count()).select_from(TABLE).where(TABLE.c.ordering_key == "marker")
    ).scalar_one()
    session.commit()
    return int(found)


def change(session: Session) -> None:
    """Stands for the domain change a click asks for: one write transaction."""
    with transaction(session):
        session.connection().execute(
            RECORD,
            interaction_row(kind=InteractionKind.OTHER, slack_user_id="U1", ordering_key="marker", payload={}, now=T0),
        )


def test_the_done_mark_commits_with_the_change_it_asked_for(session):
    row = record(session, "item:1")
    claim(session, "a")
    with settle_on_first_write(session, lambda c: close_claim(c, interaction_id=row, owner="a", now=T0)) as settled:
        session.execute(select(TABLE.c.id)).all()  # a read first: not the change
        session.commit()
        assert not settled.settled
        assert status(session, row) == InteractionStatus.CLAIMED
        change(session)
    assert settled.settled
    assert status(session, row) == InteractionStatus.DONE
    assert markers(session) == 1


def test_a_processor_that_lost_its_claim_commits_nothing(session):
    row = record(session, "item:1")
    claim(session, "slow")
    claim(session, "other", now=T0 + timedelta(seconds=LEASE + 1))
    close = lambda c: close_claim(c, interaction_id=row, owner="slow", now=T0)  # noqa: E731
    with settle_on_first_write(session, close) as settled, pytest.raises(ClaimLost):
        change(session)
    assert settled.lost
    assert not settled.settled
    assert markers(session) == 0  # its change was rolled back with the failed mark
    assert status(session, row) == InteractionStatus.CLAIMED  # still the other processor's


def test_a_row_that_keeps_failing_is_parked_and_stops_holding_back_its_item(session):
    stuck, behind = record(session, "item:1"), record(session, "item:1")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert claim(session, "a") == [stuck]
        give_back(session, interaction_id=stuck, owner="a", attempts=attempt, error="RuntimeError('boom')")
    assert status(session, stuck) == InteractionStatus.FAILED
    assert claim(session, "a") == [behind]
