"""The outbox: queueing a side effect in the transaction of the change that promises it, and the
delivery bookkeeping: claiming due rows for a deliverer, marking them delivered
or failed (parked as dead after too many attempts), and retrying dead ones by hand.

Claims are scheduling data, not domain state: they bump no version and write no audit event
(but a hand retry does). Correctness never depends on them; they keep duplicate deliveries rare.
"""

import time
from collections.abc import Callable, Collection, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import OutboxStatus
from orchestrator.core.ledger import record
from orchestrator.core.models import DeliveryCursor, Outbox
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction


def enqueue(
    session: Session, *, key: str, topic: Topic, launch_id: int | None, payload: dict[str, Any]
) -> Outbox | None:
    """Queue a side effect once per key; returns None when the key was already queued."""
    session.flush()
    if session.exec(select(Outbox.id).where(Outbox.key == key)).first() is not None:
        return None
    row = Outbox(key=key, topic=topic, launch_id=launch_id, payload=payload)
    session.add(row)
    return row


# The cursor of the Prefect events publisher (flows/events.py), which reads rows instead of claiming them.
EVENTS_CURSOR = "prefect-events"

# Attempts before an outbox row is parked as dead (visible, retryable by hand).
MAX_DELIVERY_ATTEMPTS = 8


def claim_outbox(
    session: Session, *, topics: list[str], now: datetime, claim_seconds: int = 60, limit: int = 50
) -> list[Outbox]:
    """Pending rows of these topics whose time has come, claimed by pushing their next attempt
    out by ``claim_seconds`` (a crashed worker's claim simply expires)."""
    with transaction(session):
        rows = list(
            session.exec(
                select(Outbox)
                .where(
                    col(Outbox.topic).in_(topics),
                    Outbox.status == OutboxStatus.PENDING,
                    col(Outbox.next_attempt_at) <= now,
                )
                .order_by(col(Outbox.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.next_attempt_at = now + timedelta(seconds=claim_seconds)
            row.claims += 1
    return rows


def release_claims(session: Session, *, outbox_ids: list[int], now: datetime) -> None:
    """Give claimed rows back without counting an attempt: they were not tried, only put off. The
    claim is uncounted too, so the next attempt does not go looking for a post that never was."""
    if not outbox_ids:
        return
    with transaction(session):
        session.execute(
            update(Outbox)
            .where(col(Outbox.id).in_(outbox_ids), col(Outbox.status) == OutboxStatus.PENDING)
            .values(next_attempt_at=now, claims=col(Outbox.claims) - 1)
        )


def while_claimed(
    session: Session,
    rows: list[Outbox],
    *,
    now: datetime,
    claim_seconds: int,
    stop: Callable[[], bool] | None = None,
) -> Iterator[Outbox]:
    """The claimed ``rows`` one at a time, for as long as starting on the next one is safe.

    Not once ``stop()`` says the worker is shutting down (the rest would wait out the claim), nor
    once half the claim has gone by: a deliverer that is slow (Slack pacing, timeouts, retries)
    would otherwise reach rows whose claim ran out and which another worker may be delivering too.
    The rows not handed out are given back, due again at once.
    """
    started = time.monotonic()
    for index, row in enumerate(rows):
        if (stop is not None and stop()) or time.monotonic() - started > claim_seconds / 2:
            release_claims(session, outbox_ids=[other.id for other in rows[index:] if other.id is not None], now=now)
            return
        yield row


def mark_delivered(session: Session, *, outbox_id: int, now: datetime) -> None:
    with transaction(session):
        session.execute(
            update(Outbox)
            .where(col(Outbox.id) == outbox_id, col(Outbox.status) == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, delivered_at=now)
        )


def mark_failed(
    session: Session, *, outbox_id: int, now: datetime, error: str, permanent: bool = False
) -> OutboxStatus:
    """Count a failed attempt; retry with exponential backoff, or park the row as dead (at once
    when the failure is ``permanent``)."""
    with transaction(session):
        row = session.get(Outbox, outbox_id, with_for_update=True)
        if row is None or row.status != OutboxStatus.PENDING:
            return row.status if row is not None else OutboxStatus.DEAD
        row.attempts += 1
        row.last_error = error[:2000]
        if permanent or row.attempts >= MAX_DELIVERY_ATTEMPTS:
            row.status = OutboxStatus.DEAD
        else:
            row.next_attempt_at = now + timedelta(seconds=min(2**row.attempts, 300))
        status = row.status
    return status


def retry_dead(session: Session, *, outbox_ids: list[int] | None, now: datetime, actor: Actor) -> int:
    """Send parked intents again (all dead ones when ``outbox_ids`` is None); returns how many."""
    with transaction(session):
        statement = select(Outbox).where(Outbox.status == OutboxStatus.DEAD)
        if outbox_ids is not None:
            statement = statement.where(col(Outbox.id).in_(outbox_ids))
        rows = session.exec(statement.with_for_update()).all()
        for row in rows:
            row.status = OutboxStatus.PENDING
            row.attempts = 0
            row.next_attempt_at = now
        if rows:
            record(
                session,
                actor=actor,
                entity="outbox",
                entity_id=None,
                action="outbox.retried",
                launch_id=None,
                after={"ids": [row.id for row in rows]},
            )
    return len(rows)


def list_outbox(
    session: Session, *, status: OutboxStatus | None, limit: int = 50, topics: Collection[str] | None = None
) -> list[Outbox]:
    """Newest rows first; ``topics`` keeps only those topics (a view of what a deliverer claims,
    where "pending" means "not delivered yet" rather than "nobody ever marks it")."""
    statement = select(Outbox).order_by(col(Outbox.id).desc()).limit(limit)
    if status is not None:
        statement = statement.where(Outbox.status == status)
    if topics is not None:
        statement = statement.where(col(Outbox.topic).in_(sorted(topics)))
    rows = list(session.exec(statement).all())
    session.commit()
    return rows


def cursor_position(session: Session, *, name: str) -> int:
    """The last outbox id a fire-and-forget consumer (read by a cursor, not by claims) has passed;
    0 before it first ran."""
    position = session.exec(select(DeliveryCursor.last_outbox_id).where(DeliveryCursor.name == name)).first()
    session.commit()
    return position or 0
