"""Checklist items: the item as answered, and the body of every change to one."""

from pydantic import BaseModel, Field

from api.schemas.common import Body, DbId, Link, RegionDate, StoredUtc, Version, view_of
from orchestrator.core.clock import PLAIN_DATE_MEANING
from orchestrator.core.enums import ItemStatus, Phase
from orchestrator.core.models import AuditEvent, ChecklistItem, Waiver, text_limit
from orchestrator.items.queries import ItemView


class ItemOut(BaseModel):
    model_config = view_of(ItemView, "item")

    id: int
    launch_id: int
    region: str
    phase: Phase
    key: str
    title: str
    description: str
    owner_team: str
    assignee_id: int | None
    due_at: StoredUtc | None
    blocking: bool
    evidence_required: bool
    depends_on: list[str]
    status: ItemStatus
    evidence_url: str | None
    blocked_reason: str | None
    checked_by: str | None
    checked_at: StoredUtc | None
    overdue: bool
    version: int


class CheckIn(Body):
    evidence_url: Link | None = Field(default=None, description="Required for items that need evidence.")
    version: Version = None


class UncheckIn(Body):
    reason: str | None = Field(default=None, max_length=text_limit(AuditEvent.reason))
    version: Version = None


class VersionIn(Body):
    version: Version = None


class ItemReasonIn(Body):
    """Block (kept as the item's blocked reason) and the other changes that need a reason."""

    reason: str = Field(min_length=1, max_length=text_limit(ChecklistItem.blocked_reason, AuditEvent.reason))
    version: Version = None


class WaiveIn(Body):
    reason: str = Field(
        min_length=1, max_length=text_limit(Waiver.reason, AuditEvent.reason), description="The risk accepted and why."
    )
    expires_at: RegionDate | None = Field(
        default=None,
        description=f"When the waiver lapses: ISO 8601 with an offset; {PLAIN_DATE_MEANING} (the item's region).",
    )
    version: Version = None


class AssignIn(Body):
    assignee_id: DbId | None = Field(description="A member id, or null to unassign.")
    version: Version = None


class EvidenceIn(Body):
    url: Link
    version: Version = None


class CommentIn(Body):
    text: str = Field(min_length=1, max_length=text_limit(AuditEvent.reason))  # kept as an audit entry
