"""Slack interactions as they were received: written before Slack is answered, so an acknowledged
click survives a crash of the process that acknowledged it (orchestrator/core/inbox.py)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from orchestrator.core.enums import InteractionKind, InteractionStatus
from orchestrator.core.models.columns import created_now, enum_field, json_dict, timestamp


class SlackInteraction(SQLModel, table=True):
    """One click, modal submission, shortcut or slash command, with who sent it and when.

    ``ordering_key`` ("item:123") orders the rows that must be applied one at a time in arrival
    (id) order; rows of different keys are applied in parallel. ``claimed_by`` and
    ``lease_until`` are a processor's claim: one that died loses it when the lease runs out."""

    __table_args__ = (
        Index("ix_slackinteraction_status_id", "status", "id"),
        Index("ix_slackinteraction_key_id", "ordering_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = created_now()
    kind: InteractionKind = enum_field(InteractionKind)
    slack_user_id: str = Field(max_length=40)
    ordering_key: str = Field(max_length=80)
    payload: dict[str, Any] = json_dict()
    status: InteractionStatus = enum_field(InteractionStatus, InteractionStatus.PENDING)
    claimed_by: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = timestamp(nullable=True)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=2000)
    done_at: datetime | None = timestamp(nullable=True)


class HomeView(SQLModel, table=True):
    """A Slack user who opened launchdeck's App Home: only their Homes are republished when
    something they show changes (orchestrator/core/homes.py), so nobody pays for Homes never seen."""

    slack_user_id: str = Field(primary_key=True, max_length=40)
    opened_at: datetime = created_now()
