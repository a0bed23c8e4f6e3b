"""Tables of who and where: teams, members, regions, the API tokens people and scripts use, and the
one-time dashboard sign-in links ``/launch login`` sends."""

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from orchestrator.core.enums import (
    Role,
)
from orchestrator.core.models.columns import created_now, enum_field, json_dict, json_list, timestamp


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    slack_channel: str | None = Field(default=None, max_length=80)
    # The member (by email) who approves for the team where the templates ask for its lead.
    lead: str | None = Field(default=None, max_length=254)
    # Open items a week the team can take across all launches (the GTM load view); None: the
    # configured default (LAUNCHDECK_TEAM_CAPACITY_PER_WEEK).
    capacity_per_week: int | None = Field(default=None)


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=120)
    slack_user_id: str | None = Field(default=None, max_length=40, unique=True, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    role: Role = enum_field(Role, Role.MEMBER)


class Region(SQLModel, table=True):
    """A market a launch rolls out to; sub-regions (``NA:CA-QC``) name their parent."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    timezone: str = Field(max_length=64)
    slack_channel: str | None = Field(default=None, max_length=80)
    rollout_order: int = Field(default=100)
    parent_id: int | None = Field(default=None, foreign_key="region.id")
    # When changes may go out, in local time: {"days": [0..6 Mon=0], "start": "HH:MM", "end": "HH:MM"};
    # None means any time. Freezes: [{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD", "reason": "..."}].
    rollout_window: dict[str, Any] | None = json_dict(nullable=True)
    freezes: list[dict[str, Any]] = json_list()
    # The countries (ISO 3166-1 alpha-2, or country-subdivision such as CA-QC) whose public holidays
    # a phase date in this region should avoid: the collision check reads them (``holidays`` package).
    holiday_countries: list[str] = json_list()


class ApiToken(SQLModel, table=True):
    """A bearer token for the API. Only a SHA-256 of the secret is stored; the secret is shown once."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: Role = enum_field(Role)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = created_now()
    last_used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class LoginLink(SQLModel, table=True):
    """A one-time dashboard sign-in link sent to a member in a Slack DM. Only a SHA-256 of its
    secret is stored; it works once (``used_at``) and only until ``expires_at``."""

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_now()
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
