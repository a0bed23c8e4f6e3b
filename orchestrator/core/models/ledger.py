"""Tables of record and delivery: the audit ledger, the outbox and its cursors, stored answers to
idempotent requests, the daily RAG history, the Slack messages launchdeck posted, and what the
console transport showed in their place."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Date, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from orchestrator.core.clock import utcnow
from orchestrator.core.enums import (
    OutboxStatus,
    Phase,
    Source,
)
from orchestrator.core.models.columns import created_now, enum_field, json_dict, json_list, timestamp


class RagSnapshot(SQLModel, table=True):
    """A launch's RAG as the daily digest saw it, one row per launch and UTC day, so the
    dashboard can show the trend against last week without recomputing history."""

    __table_args__ = (UniqueConstraint("launch_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    day: date = Field(sa_type=Date, nullable=False)
    rag: str = Field(max_length=16)
    reason: str = Field(max_length=2000)
    taken_at: datetime = created_now()


class AuditEvent(SQLModel, table=True):
    """Append-only ledger: nothing changes without one of these in the same transaction."""

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    entity: str = Field(max_length=40)
    entity_id: int | None = Field(default=None)
    action: str = Field(max_length=60)
    actor: str = Field(max_length=254)
    source: Source = enum_field(Source)
    before: dict[str, Any] | None = json_dict(nullable=True)
    after: dict[str, Any] | None = json_dict(nullable=True)
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime = created_now()


class Outbox(SQLModel, table=True):
    """A side effect promised by a committed change; delivered later, at most once per key."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    topic: str = Field(max_length=80, index=True)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    payload: dict[str, Any] = json_dict()
    status: OutboxStatus = enum_field(OutboxStatus, OutboxStatus.PENDING, index=True)
    attempts: int = Field(default=0)
    # Times a deliverer took the row. Above one, an earlier deliverer may have done part of the work
    # unseen (killed, or its answer lost), so delivery checks before repeating a side effect.
    claims: int = Field(default=0)
    next_attempt_at: datetime = created_now()
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = created_now()
    delivered_at: datetime | None = timestamp(nullable=True)


class DeliveryCursor(SQLModel, table=True):
    """How far a fire-and-forget consumer (e.g. Prefect events) has read the outbox."""

    name: str = Field(primary_key=True, max_length=60)
    last_outbox_id: int = Field(default=0)
    updated_at: datetime = created_now()


class IdempotencyRecord(SQLModel, table=True):
    """The first answer to a request sent with an Idempotency-Key, replayed to its retries."""

    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    token_id: int = Field(foreign_key="apitoken.id", index=True)
    key: str = Field(max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_now()


class SlackMessage(SQLModel, table=True):
    """A message launchdeck posted (or the console transport printed), one row per part, so a retry
    updates it instead of posting again and an item's check-off edits the message that listed it."""

    __table_args__ = (UniqueConstraint("outbox_id", "audience", "part"),)

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    # One intent can reach several audiences (each owning team of a gate); each has its parts.
    audience: str = Field(default="main", max_length=80)
    part: int = Field(default=0)
    kind: str = Field(max_length=60)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    rollout_id: int | None = Field(default=None, foreign_key="regionrollout.id")
    phase: Phase | None = enum_field(Phase, None, nullable=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    channel: str = Field(max_length=80)
    ts: str = Field(max_length=40)
    item_ids: list[int] = json_list()
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    blocks: list[dict[str, Any]] = json_list()
    created_at: datetime = created_now()
    updated_at: datetime = created_now()


class ConsoleMessage(SQLModel, table=True):
    """A message the console transport showed instead of posting to Slack, as last rendered.

    Without Slack the worker's log is the only place messages appear, and the dashboard runs in
    another process: this copy lets the dashboard show what GTM teams would have seen. Only the
    newest few hundred are kept (the transport prunes), since it is a view, not a record.
    """

    __table_args__ = (UniqueConstraint("channel", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=80)
    ts: str = Field(max_length=40)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    blocks: list[dict[str, Any]] = json_list()
    posted_at: datetime = created_now()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False, index=True)
    updates: int = Field(default=0)
