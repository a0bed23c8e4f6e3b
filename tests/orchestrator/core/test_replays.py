"""Idempotency-Key reservations (orchestrator/core/replays.py), on SQLite and PostgreSQL: one left
in progress by a request that never finished (its process died, or the database went away before
its release was written) is taken over by a retry after ``STALE_AFTER``, never before, and a key
that has its answer is never taken over."""

from datetime import timedelta

import pytest
from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import Role
from orchestrator.core.replays import IN_PROGRESS, STALE_AFTER, find_answer, reserve, store_answer
from orchestrator.directory.tokens import create_token


@pytest.fixture
def key(seeded: Session, actor: Actor) -> dict[str, object]:
    token, _secret = create_token(session=seeded, name="retrying-bot", role=Role.ADMIN, actor=actor)
    return {"token_id": token.id, "key": "check-42", "method": "POST", "path": "/api/v1/items/42/check"}


def test_a_reservation_whose_request_never_finished_is_taken_over_after_stale_after(seeded, key):
    began = utcnow()
    assert reserve(session=seeded, request_hash="a" * 64, now=began, **key)
    # The request died before storing an answer or releasing the key: a retry is refused as
    # "still running" until the reservation is stale, then runs, and holds the key afresh.
    assert not reserve(session=seeded, request_hash="a" * 64, now=began + STALE_AFTER - timedelta(seconds=1), **key)
    retried = began + STALE_AFTER + timedelta(seconds=1)
    assert reserve(session=seeded, request_hash="a" * 64, now=retried, **key)
    assert not reserve(session=seeded, request_hash="a" * 64, now=retried + timedelta(seconds=1), **key)
    answer = find_answer(session=seeded, token_id=key["token_id"], key=key["key"])
    assert answer is not None
    assert answer.status_code == IN_PROGRESS


def test_an_answered_key_is_never_taken_over(seeded, key):
    began = utcnow()
    assert reserve(session=seeded, request_hash="a" * 64, now=began, **key)
    store_answer(session=seeded, token_id=key["token_id"], key=key["key"], status_code=200, body='{"ok": true}')
    assert not reserve(session=seeded, request_hash="a" * 64, now=began + timedelta(days=1), **key)
    answer = find_answer(session=seeded, token_id=key["token_id"], key=key["key"])
    assert answer is not None
    assert (answer.status_code, answer.body) == (200, '{"ok": true}')
