"""The Slack inbox: interactions recorded before Slack is answered, then claimed and applied.

Why: Slack is told 200 within its three seconds and never resends an acknowledged click, so a
click only held in memory is lost when the process dies. The acknowledging request writes one row
(``pending_row`` through ``RECORD``: one INSERT, no reads) and answers; processors claim rows
(``claim_interactions``) and settle them.

Order: rows of one ``ordering_key`` are claimed one at a time in id order; a row waits while an
earlier row of its key is pending or claimed. Rows of different keys go in parallel. Ids are
given when rows are written, so two clicks whose recordings overlapped (PostgreSQL only; SQLite
writes one at a time) have no arrival order between them to keep.

Exactly once: a claimed row is marked done by ``settle_on_first_write`` in the same commit as the
change it asked for (the first write transaction its handler commits), guarded by the claim: a
processor whose lease ran out finds its claim taken, raises ``ClaimLost`` inside that commit, and
its change is rolled back. A handler that commits no write (a refusal, a modal to open) is marked
done afterwards (``mark_done``); running it twice would change nothing either.

A crashed processor's claims expire after the lease (``slack_interaction_lease_seconds``) and are
claimed again; an applied row is never claimed again, since its done mark committed with it.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, event, exists, insert, or_, select, update
from sqlmodel import Session

from orchestrator.core.db import WRITE_INTENT, is_sqlite
from orchestrator.core.enums import InteractionKind, InteractionStatus
from orchestrator.core.errors import ClaimLost
from orchestrator.core.models import SlackInteraction
from orchestrator.core.unit import transaction

TABLE = SlackInteraction.__table__  # type: ignore[attr-defined]
RECORD = insert(TABLE)  # executed with ``pending_row(...)`` (or a done row) as its parameters
MAX_ATTEMPTS = 5  # claims of one row before it is parked as failed (it no longer blocks its key)
ERROR_MAX = 2000  # SlackInteraction.last_error's length
_PENDING, _CLAIMED, _DONE = InteractionStatus.PENDING, InteractionStatus.CLAIMED, InteractionStatus.DONE


def interaction_row(
    *,
    kind: InteractionKind,
    slack_user_id: str,
    ordering_key: str,
    payload: dict[str, Any],
    now: datetime,
    done: bool = False,
) -> dict[str, Any]:
    """The parameters of ``RECORD`` for one interaction: pending, or already done (one answered
    inline, recorded with its effect)."""
    return {
        "received_at": now,
        "kind": kind,
        "slack_user_id": slack_user_id[:40],
        "ordering_key": ordering_key[:80],
        "payload": payload,
        "status": _DONE if done else _PENDING,
        "attempts": 1 if done else 0,
        "done_at": now if done else None,
    }


@dataclass(frozen=True)
class Claimed:
    """A row a processor holds under ``owner`` until ``lease_until``."""

    id: int
    kind: InteractionKind
    payload: dict[str, Any]
    received_at: datetime
    attempts: int


def _claimable(now: datetime) -> Any:
    c = TABLE.c
    return or_(c.status == _PENDING, and_(c.status == _CLAIMED, c.lease_until < now))


def claim_interactions(
    session: Session, *, owner: str, now: datetime, lease_seconds: float, limit: int = 2
) -> list[Claimed]:
    """Claim the oldest claimable rows, at most one per ordering key (the first unfinished one)."""
    c, earlier = TABLE.c, TABLE.alias("earlier")
    waiting = exists().where(
        earlier.c.ordering_key == c.ordering_key,
        earlier.c.id < c.id,
        earlier.c.status.in_([_PENDING, _CLAIMED]),
    )
    due = select(c.id).where(_claimable(now), ~waiting).order_by(c.id).limit(limit)
    with transaction(session):
        if not is_sqlite(session.get_bind()):
            due = due.with_for_update(skip_locked=True, of=TABLE)  # claimers pass each other by
        ids = list(session.execute(due).scalars())
        if not ids:
            return []
        claim = (
            update(TABLE)
            .where(c.id.in_(ids), _claimable(now))  # checked again: another claimer may have won
            .values(
                status=_CLAIMED,
                claimed_by=owner,
                lease_until=now + timedelta(seconds=lease_seconds),
                attempts=c.attempts + 1,
            )
            .returning(c.id, c.kind, c.payload, c.received_at, c.attempts)
        )
        rows = [Claimed(*row) for row in session.execute(claim)]
    return sorted(rows, key=lambda row: row.id)


def _mine(interaction_id: int, owner: str) -> Any:
    c = TABLE.c
    return and_(c.id == interaction_id, c.status == _CLAIMED, c.claimed_by == owner)


def close_claim(connection: Connection, *, interaction_id: int, owner: str, now: datetime) -> None:
    """Mark a row this ``owner`` claimed done, on ``connection`` (inside the change it asked for,
    see ``settle_on_first_write``). Raises ``ClaimLost`` when the claim is no longer this owner's."""
    marked = connection.execute(
        update(TABLE).where(_mine(interaction_id, owner)).values(status=_DONE, done_at=now, lease_until=None)
    )
    if marked.rowcount != 1:
        raise ClaimLost(f"Slack interaction {interaction_id} was claimed by another processor")


def mark_done(session: Session, *, interaction_id: int, owner: str, now: datetime) -> None:
    """Settle a claimed row whose handling committed no write. Raises ``ClaimLost``."""
    with transaction(session):
        close_claim(session.connection(), interaction_id=interaction_id, owner=owner, now=now)


def give_back(session: Session, *, interaction_id: int, owner: str, attempts: int, error: str) -> None:
    """A claimed row whose handling failed: pending again for another try, or parked as failed
    after ``MAX_ATTEMPTS`` claims so it stops holding back its key."""
    status = InteractionStatus.FAILED if attempts >= MAX_ATTEMPTS else _PENDING
    with transaction(session):
        session.execute(
            update(TABLE)
            .where(_mine(interaction_id, owner))
            .values(status=status, claimed_by=None, lease_until=None, last_error=error[:ERROR_MAX])
        )


@dataclass
class Settlement:
    """Whether the handler's first write transaction carried the row's closing statement."""

    settled: bool = False
    lost: bool = False
    _connection: Connection | None = None
    _committing: bool = False


@contextmanager
def settle_on_first_write(session: Session, close: Callable[[Connection], object]) -> Iterator[Settlement]:
    """Within the block, run ``close`` (mark the row done, or record it done) inside the first
    transaction of ``session`` that writes, just before it commits, so both land or neither.
    ``close`` raising ``ClaimLost`` aborts that commit (``lost`` tells the caller). Only the first:
    a handler that commits several writes has the rest outside the guarantee (none does today)."""
    state = Settlement()

    def began(_session: Session, _transaction: Any, connection: Connection) -> None:
        state._connection = connection

    def committing(_session: Session) -> None:
        if state.settled or state._connection is None or not _wrote(state._connection):
            return
        try:
            close(state._connection)
        except ClaimLost:
            state.lost = True
            raise
        state._committing = True

    def committed(_session: Session) -> None:
        state.settled = state.settled or state._committing
        state._connection, state._committing = None, False

    def rolled_back(_session: Session) -> None:
        state._connection, state._committing = None, False

    hooks: list[tuple[str, Callable[..., None]]] = [
        ("after_begin", began),
        ("before_commit", committing),
        ("after_commit", committed),
        ("after_rollback", rolled_back),
    ]
    for name, hook in hooks:
        event.listen(session, name, hook)
    try:
        yield state
    finally:
        for name, hook in hooks:
            event.remove(session, name, hook)


def _wrote(connection: Connection) -> bool:
    """Whether the open transaction writes: on SQLite, begun as a write (every service's
    transaction is); on PostgreSQL, it has a transaction id (a write or a row lock took one)."""
    if is_sqlite(connection.engine):
        return bool(connection.get_execution_options().get(WRITE_INTENT, False))
    return connection.exec_driver_sql("SELECT txid_current_if_assigned()").scalar() is not None
