"""What is blocking a region from a phase (``GET /launches/{slug}/blockers``): the read model of
``orchestrator.reporting.blockers``, field for field, as the CLI's ``launch blockers --json``."""

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.common import StoredUtc
from api.schemas.gates import CriterionOut
from orchestrator.core.enums import GateStatus, ItemStatus, Phase, RolloutState, Vote, WaveMode


class DependencyOut(BaseModel):
    key: str
    status: ItemStatus | None = Field(description="null: no item with that key in this region.")
    done: bool = Field(description="Done, waived or n/a.")


class BlockingItemOut(BaseModel):
    id: int
    key: str
    title: str
    status: ItemStatus
    owner_team: str = Field(description="The owning team's name.")
    assignee_name: str | None
    assignee_email: str | None
    due_at: StoredUtc | None
    overdue: bool
    days_late: int = Field(description="Whole days past due; 0 when not late (or late by less than a day).")
    blocked_reason: str | None
    depends_on: list[DependencyOut]


class VoteLineOut(BaseModel):
    voter: str
    vote: Vote
    cast_at: StoredUtc
    counts: bool = Field(description="False when void or a Go too old to count; note says which.")
    note: str | None


class ApprovalWaitOut(BaseModel):
    status: GateStatus
    approvers: list[str]
    needed: int = Field(description="Gos needed (the quorum, or every approver).")
    distinct_teams: bool
    votes: list[VoteLineOut]
    gos: list[str]
    no_gos: list[str]
    stale: list[str] = Field(description="Gos too old to count until their approver votes again.")
    missing: list[str] = Field(description="Approvers without a counting vote.")
    holds: bool


class TimeWaitOut(BaseModel):
    status: GateStatus
    phase_at: StoredUtc | None = Field(description="The phase date in this region.")
    opens_at: StoredUtc | None = Field(
        description="First moment at or after the phase date inside the region's rollout window and outside its "
        "freezes; null: none ahead."
    )
    reached: bool


class WaveWaitOut(BaseModel):
    mode: WaveMode
    waiting_for: list[str] = Field(description="Sequential waves: earlier regions not yet live in the phase.")


class BetaExitWaitOut(BaseModel):
    status: GateStatus
    exits: Phase | None = Field(description="The beta the gate lets the region out of.")
    criteria: list[CriterionOut]
    met: bool


class BlockersOut(BaseModel):
    slug: str
    region: str
    phase: Phase
    state: RolloutState
    current_phase: Phase | None
    halted: bool = Field(description="Halted or rolled back: nothing moves until it is resumed.")
    halt_reason: str | None
    reached: bool = Field(description="The region is in the phase (ready or beyond) or past it: nothing blocks.")
    items: list[BlockingItemOut] = Field(description="Open blocking checklist items of the phase, by due date.")
    approval: ApprovalWaitOut | None
    time: TimeWaitOut | None
    wave: WaveWaitOut
    beta_exit: BetaExitWaitOut | None
    next_step_at: datetime | None = Field(description="When the worker next acts on the region (null: see next_step).")
    next_step: str = Field(examples=["as soon as the last condition is met"])
    reasons: list[str] = Field(description="Everything above in sentences a person reads.")
