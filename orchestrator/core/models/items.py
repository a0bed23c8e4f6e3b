"""Tables of checklist items and the waivers that accept the risk of skipping one."""

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from orchestrator.core.enums import (
    SATISFYING_STATUSES,
    ItemStatus,
    Phase,
)
from orchestrator.core.models.columns import created_now, enum_field, json_list, timestamp

# An open blocking checklist item, as SQL both databases read alike (booleans as IS TRUE, the
# satisfying statuses as literals): the predicate of ix_checklistitem_open_blocking. Its column
# names are unqualified, so use it only where checklistitem is the one table in scope (a subquery
# over it): next to launch, "status" is ambiguous.
OPEN_BLOCKING_ITEM = "blocking IS TRUE AND status NOT IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(SATISFYING_STATUSES))
)

# Any open checklist item (to do, in progress, blocked), the same way: the predicate of
# ix_checklistitem_open_team_due, which the GTM load (orchestrator/planning/load.py) counts from.
OPEN_ITEM = "status NOT IN ({})".format(", ".join(f"'{status.value}'" for status in sorted(SATISFYING_STATUSES)))


class ChecklistItem(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("rollout_id", "phase", "key"),
        # Covers the per-region open-item counts of the digest and the dashboard: the portfolio
        # reads every active launch's items from this index without touching the table.
        Index("ix_checklistitem_rollup", "launch_id", "rollout_id", "status", "blocking", "due_at"),
        # Only the open blocking items, by region and due date: the portfolio counts them, finds
        # the overdue ones and the next due one per region with a seek each instead of reading
        # every item of every active launch. Queries must repeat OPEN_BLOCKING_ITEM word for word
        # (SQLite matches a partial index's WHERE clause textually).
        Index(
            "ix_checklistitem_open_blocking",
            "rollout_id",
            "due_at",
            "blocking",
            "status",
            sqlite_where=text(OPEN_BLOCKING_ITEM),
            postgresql_where=text(OPEN_BLOCKING_ITEM),
        ),
        # The open items of each team by due date (and launch, to keep only planned launches'):
        # the GTM load counts a team-week with a range count here instead of reading every item.
        Index(
            "ix_checklistitem_open_team_due",
            "owner_team_id",
            "due_at",
            "launch_id",
            sqlite_where=text(OPEN_ITEM),
            postgresql_where=text(OPEN_ITEM),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = enum_field(Phase)
    key: str = Field(max_length=120)
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    owner_team_id: int = Field(foreign_key="team.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    due_at: datetime | None = timestamp(nullable=True, index=True)
    # Days relative to the phase date, kept so a reschedule can move the due date with it.
    due_offset_days: int | None = Field(default=None)
    blocking: bool = Field(default=True)
    evidence_required: bool = Field(default=False)
    depends_on: list[str] = json_list()
    status: ItemStatus = enum_field(ItemStatus, ItemStatus.TODO, index=True)
    evidence_url: str | None = Field(default=None, max_length=2000)
    blocked_reason: str | None = Field(default=None, max_length=1000)
    checked_by: str | None = Field(default=None, max_length=254)
    checked_at: datetime | None = timestamp(nullable=True)
    # Overdue reminders: throttled per item, escalated to the team channel after a few days late.
    last_reminded_at: datetime | None = timestamp(nullable=True)
    reminders_sent: int = Field(default=0)
    escalated_at: datetime | None = timestamp(nullable=True)
    version: int = Field(default=1)
    updated_at: datetime = created_now()


class Waiver(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="checklistitem.id", index=True)
    approver: str = Field(max_length=254)
    reason: str = Field(max_length=1000)
    expires_at: datetime | None = timestamp(nullable=True)
    created_at: datetime = created_now()
    revoked_at: datetime | None = timestamp(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=254)
