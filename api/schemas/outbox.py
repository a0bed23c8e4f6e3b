"""The outbox as operators see it: a queued, sent or dead intent, and the retry of dead ones."""

from pydantic import BaseModel, Field

from api.schemas.common import Body, DbId, StoredUtc
from orchestrator.core.enums import OutboxStatus


class OutboxOut(BaseModel):
    id: int
    topic: str
    status: OutboxStatus
    attempts: int
    launch_id: int | None
    created_at: StoredUtc
    next_attempt_at: StoredUtc
    delivered_at: StoredUtc | None
    last_error: str | None


class RetryIn(Body):
    ids: list[DbId] | None = Field(default=None, max_length=500, description="Dead rows to retry; omit for all.")


class RetryOut(BaseModel):
    queued: int
