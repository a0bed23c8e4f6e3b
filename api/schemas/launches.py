"""Launches and their regions: the create body, the list and detail answers, and the bodies of
the region actions (halt, resume, roll back, reschedule)."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import MAX_DB_INT, Body, RegionDate, Version, view_of
from api.schemas.gates import GateOut
from orchestrator.core.clock import PLAIN_DATE_MEANING
from orchestrator.core.enums import ExitMetric, LaunchStatus, Phase, RolloutState, WaveMode
from orchestrator.core.models import AuditEvent, Launch, PhaseDateChange, Region, RegionRollout, text_limit
from orchestrator.launches.queries import LaunchDetail
from orchestrator.launches.spec import FlagKey, Slug, TargetChoice


class RegionDates(Body):
    region: str = Field(min_length=1, max_length=text_limit(Region.code), examples=["EU"])
    dates: dict[Phase, RegionDate] = Field(
        description=f"Phase dates, each ISO 8601 with an offset; {PLAIN_DATE_MEANING}. At least one; any phase "
        "may be skipped instead (GA too).",
        examples=[{"internal": "2027-03-01", "ga": "2027-04-01T09:00:00+02:00"}],
    )
    skip: list[Phase] = Field(
        default_factory=list,
        max_length=4,
        description="Phases this region skips. Every phase needs a date or a place here: a phase with "
        "neither is refused, so no phase is skipped by leaving its date out.",
        examples=[["public_beta"]],
    )
    rollout_target: TargetChoice = None
    flag_key: FlagKey = None


class LaunchCreate(Body):
    slug: Annotated[Slug, Field(examples=["acme-assistant"])]
    name: str = Field(min_length=1, max_length=text_limit(Launch.name))
    tier: int = Field(strict=True, ge=1, le=3)
    owner: str = Field(min_length=1, max_length=text_limit(Launch.owner))
    exec_sponsor: str | None = Field(default=None, max_length=text_limit(Launch.exec_sponsor))
    flags: list[str] = Field(default_factory=list, max_length=50)
    regions: list[RegionDates] = Field(min_length=1, max_length=50)
    approvers: list[str] = Field(
        default_factory=list, max_length=50, description="Member emails who approve every approval gate."
    )
    phase_approvers: dict[Phase, list[str]] = Field(
        default_factory=dict, description="Per phase, its approval gates' approvers instead of approvers."
    )
    approval_quorum: int | None = Field(default=None, ge=1, le=50, description="Gos needed (default: every approver).")
    approval_distinct_teams: bool = Field(default=False, description="The quorum's Gos come from distinct teams.")
    wave_mode: WaveMode = WaveMode.PARALLEL
    rollout_target: TargetChoice = Field(
        default=None,
        description="Where this launch's exposure changes go: recording, webhook, flagd or unleash "
        "(default: LAUNCHDECK_ROLLOUT_TARGET); the target must be configured, else 422.",
        examples=["flagd"],
    )
    flag_key: FlagKey = Field(default=None, examples=["new-checkout"])
    ramp_plan: dict[str, list[dict[str, int | float]]] = Field(default_factory=dict)
    beta_exit_criteria: dict[Phase, dict[ExitMetric, Annotated[int, Field(strict=True, ge=0, le=MAX_DB_INT)]]] = Field(
        default_factory=dict,
        description="Per beta phase, thresholds for leaving it; they become a beta_exit gate on the next phase.",
        examples=[{"private_beta": {"open_severity_1": 0, "active_accounts": 20}, "public_beta": {"fix_weeks": 2}}],
    )


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
    target: str = Field(description="Where this region's exposure changes go (its own, the launch's or the default).")
    flag_key: str = Field(description="The feature flag they move there.")
    phases: list[PhaseDateOut]
    skipped_phases: list[Phase] = Field(description="Phases this region skips: no date, no gates, shown as skipped.")
    gates: list[GateOut]
    items_total: int
    items_open_blocking: int
    items_overdue: int


class LaunchOut(BaseModel):
    model_config = view_of(LaunchDetail, "launch")

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
    rollout_target: str | None = Field(description="The launch's own rollout target (null: the configured one).")
    flag_key: str | None = Field(description="The launch's own flag key (null: its slug).")
    version: int
    rollouts: list[RolloutOut]


class ReasonIn(Body):
    """Halt and roll back: the reason is audited and kept as the region's halt reason."""

    reason: str = Field(min_length=1, max_length=text_limit(RegionRollout.halt_reason, AuditEvent.reason))
    version: Version = None


class ResumeIn(Body):
    reason: str | None = Field(default=None, max_length=text_limit(AuditEvent.reason))
    version: Version = None


class RescheduleIn(Body):
    phase: Phase
    date: RegionDate = Field(description=f"The new phase date: ISO 8601 with an offset; {PLAIN_DATE_MEANING}.")
    reason: str = Field(min_length=1, max_length=text_limit(PhaseDateChange.reason, AuditEvent.reason))
    version: Version = None
