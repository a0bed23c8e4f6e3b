"""Storage for Idempotency-Key: the first answer to a request, replayed to its retries.

A request first reserves its key (status 0 = in progress) in its own transaction, so a concurrent
duplicate is refused instead of running twice; the answer is stored when the request finishes.
A reservation still in progress after ``STALE_AFTER`` belongs to a request that will never finish
it: its process died, or the database went away before its release could be written (issue #21,
PostgreSQL restarted under load). A retry then takes it over instead of being told "still running"
for ever.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from orchestrator.core.clock import utcnow
from orchestrator.core.models import IdempotencyRecord
from orchestrator.core.unit import transaction

IN_PROGRESS = 0
# Far beyond any change request's time (the longest waits out SQLite's 30 s lock timeout).
STALE_AFTER = timedelta(seconds=60)


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    body: str


def find_answer(*, session: Session, token_id: int, key: str) -> StoredAnswer | None:
    row = session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key)
    ).first()
    session.commit()
    if row is None:
        return None
    return StoredAnswer(row.request_hash, row.status_code, row.response_body)


def reserve(
    *,
    session: Session,
    token_id: int,
    key: str,
    method: str,
    path: str,
    request_hash: str,
    now: datetime | None = None,
) -> bool:
    """Claim the key for this request; False if another request holds or answered it (a stale
    reservation, see the module's docstring, is taken over)."""
    now = now or utcnow()
    try:
        with transaction(session):
            session.add(
                IdempotencyRecord(
                    token_id=token_id,
                    key=key,
                    method=method,
                    path=path[:500],
                    request_hash=request_hash,
                    status_code=IN_PROGRESS,
                    response_body="",
                    created_at=now,
                )
            )
    except IntegrityError:
        return _take_over_stale(
            session, token_id=token_id, key=key, method=method, path=path, request_hash=request_hash, now=now
        )
    return True


def _take_over_stale(
    session: Session, *, token_id: int, key: str, method: str, path: str, request_hash: str, now: datetime
) -> bool:
    """Compare-and-set: of two retries arriving together, one takes the reservation over."""
    with transaction(session):
        result = session.execute(
            update(IdempotencyRecord)
            .where(
                col(IdempotencyRecord.token_id) == token_id,
                col(IdempotencyRecord.key) == key,
                col(IdempotencyRecord.status_code) == IN_PROGRESS,
                col(IdempotencyRecord.created_at) < now - STALE_AFTER,
            )
            .values(method=method, path=path[:500], request_hash=request_hash, created_at=now)
            .execution_options(synchronize_session=False)
        )
    return cast(CursorResult[Any], result).rowcount == 1


def store_answer(*, session: Session, token_id: int, key: str, status_code: int, body: str) -> None:
    with transaction(session):
        row = session.exec(
            select(IdempotencyRecord).where(IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key)
        ).one()
        row.status_code = status_code
        row.response_body = body


def release(*, session: Session, token_id: int, key: str) -> None:
    """Forget a reservation whose request failed unexpectedly, so a retry runs it again."""
    with transaction(session):
        row = session.exec(
            select(IdempotencyRecord).where(IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key)
        ).first()
        if row is not None and row.status_code == IN_PROGRESS:
            session.delete(row)
