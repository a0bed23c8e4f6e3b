"""What leadership and auditors read: the audit trail and the rollup of every active launch."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from api.schemas.common import StoredUtc, view_of
from api.schemas.gates import CriterionOut
from orchestrator.core.enums import Phase, RolloutState, Source
from orchestrator.reporting.digest import LaunchDigest
from orchestrator.reporting.rag import Rag
from orchestrator.reporting.readiness import PhaseSlip, TeamReadiness


class AuditOut(BaseModel):
    id: int
    at: StoredUtc
    actor: str
    source: Source
    entity: str
    entity_id: int | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


class RegionRollupOut(BaseModel):
    region: str
    region_name: str
    state: RolloutState
    phase: Phase | None
    percent: int
    open_blocking: int
    overdue_blocking: int
    blocked: int
    blocked_blocking: int
    next_blocking_due_at: datetime | None
    slip_days: int
    slip_phase: Phase | None
    next_gate_phase: Phase | None
    next_gate_at: datetime | None
    next_gate_criteria: list[CriterionOut] = Field(
        description="The next gate's beta exit criteria, each with its current value and threshold (empty: none)."
    )
    skipped_phases: list[Phase] = Field(description="Phases this region skips; they count neither as done nor late.")
    forecast_done_at: datetime | None = Field(
        description="The latest recorded forecast of when the next gate's open blocking items are done (null: none "
        "recorded, or none open); a day after next_gate_at makes the launch amber."
    )


class TeamReadinessOut(BaseModel):
    team: str
    team_name: str
    blocking_done: int = Field(description="Blocking items done, waived or n/a.")
    blocking_total: int
    done: int = Field(description="All items done, waived or n/a.")
    total: int


def _hundredths(days: float) -> float:
    return round(days, 2)


class SlipOut(BaseModel):
    region: str
    phase: Phase
    baseline_at: datetime
    current_at: datetime
    slip_days: Annotated[float, AfterValidator(_hundredths)]  # a PhaseSlip's are unrounded
    reason: str | None


@dataclass(frozen=True)
class LaunchRollup:
    """One launch of the rollup as `LaunchRollupOut` answers it: its digest, with its teams'
    readiness and its slipped dates (two more reads, for every launch at once) beside it."""

    launch: LaunchDigest
    teams: list[TeamReadiness]
    slips: list[PhaseSlip]


class LaunchRollupOut(BaseModel):
    model_config = view_of(LaunchRollup, "launch")

    id: int
    slug: str
    name: str
    tier: int
    owner: str
    exec_sponsor: str | None
    rag: Rag
    reason: str
    regions: list[RegionRollupOut]
    teams: list[TeamReadinessOut]
    slips: list[SlipOut]


class RollupOut(BaseModel):
    generated_at: datetime
    counts: dict[str, int]
    launches: list[LaunchRollupOut]
