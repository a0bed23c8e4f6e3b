"""Storage for Idempotency-Key: the first answer to a request, replayed to its retries.

A request first reserves its key (status 0 = in progress) in its own transaction, so a concurrent
duplicate is refused instead of running twice; the answer is stored when the request finishes.
"""

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from orchestrator.core.models import IdempotencyRecord
from orchestrator.core.unit import transaction

IN_PROGRESS = 0


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


def reserve(*, session: Session, token_id: int, key: str, method: str, path: str, request_hash: str) -> bool:
    """Claim the key for this request; False if another request holds or answered it."""
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
                )
            )
    except IntegrityError:
        return False
    return True


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
