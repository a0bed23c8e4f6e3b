"""Request and response bodies of the API (pydantic models, separate from the tables)."""

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from orchestrator.enums import GateKind, GateStatus, ItemStatus, LaunchStatus, Phase, RolloutState, Vote, WaveMode
from orchestrator.services.launches import SLUG_PATTERN

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int
    limit: int
    offset: int


class RegionDates(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str = Field(min_length=1, max_length=40, examples=["EU"])
    dates: dict[Phase, datetime] = Field(min_length=1, description="Phase dates with a timezone offset.")


class LaunchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(pattern=SLUG_PATTERN, examples=["acme-assistant"])
    name: str = Field(min_length=1, max_length=200)
    tier: int = Field(ge=1, le=3)
    owner: str = Field(min_length=1, max_length=254)
    exec_sponsor: str | None = Field(default=None, max_length=254)
    flags: list[str] = Field(default_factory=list, max_length=50)
    regions: list[RegionDates] = Field(min_length=1, max_length=50)
    approvers: list[str] = Field(default_factory=list, max_length=50)
    wave_mode: WaveMode = WaveMode.PARALLEL
    ramp_plan: dict[str, list[dict[str, int | float]]] = Field(default_factory=dict)


class LaunchSummaryOut(BaseModel):
    id: int
    slug: str
    name: str
    tier: int
    status: LaunchStatus
    owner: str
    regions: list[str]
    items_total: int
    items_open_blocking: int


class PhaseDateOut(BaseModel):
    phase: Phase
    baseline_at: datetime
    current_at: datetime
    slip_days: float


class GateOut(BaseModel):
    id: int
    phase: Phase
    kind: GateKind
    status: GateStatus


class RolloutOut(BaseModel):
    id: int
    region: str
    region_name: str
    timezone: str
    state: RolloutState
    phase: Phase | None
    percent: int
    version: int
    halt_reason: str | None
    phases: list[PhaseDateOut]
    gates: list[GateOut]
    items_total: int
    items_open_blocking: int
    items_overdue: int


class LaunchOut(BaseModel):
    id: int
    slug: str
    name: str
    tier: int
    status: LaunchStatus
    owner: str
    exec_sponsor: str | None
    flags: list[str]
    template_version: str | None
    wave_mode: WaveMode
    version: int
    rollouts: list[RolloutOut]


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)
    version: int | None = Field(default=None, ge=1, description="The version you read; a newer one answers 409.")


class ResumeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=1000)
    version: int | None = Field(default=None, ge=1)


class RescheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phase: Phase
    date: datetime = Field(description="The new phase date, with a timezone offset.")
    reason: str = Field(min_length=1, max_length=1000)
    version: int | None = Field(default=None, ge=1)


class ItemOut(BaseModel):
    id: int
    launch_id: int
    region: str
    phase: Phase
    key: str
    title: str
    description: str
    owner_team: str
    assignee_id: int | None
    due_at: datetime | None
    blocking: bool
    evidence_required: bool
    depends_on: list[str]
    status: ItemStatus
    evidence_url: str | None
    blocked_reason: str | None
    checked_by: str | None
    checked_at: datetime | None
    overdue: bool
    version: int


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vote: Vote
    voter: str | None = Field(default=None, max_length=254, description="Defaults to the token's name.")
    comment: str | None = Field(default=None, max_length=2000)
    conditions: str | None = Field(default=None, max_length=2000)
    risk_accepted_by: str | None = Field(default=None, max_length=254)
    reevaluate_at: datetime | None = None
