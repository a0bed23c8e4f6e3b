"""Request and response bodies of the API (pydantic models, separate from the tables)."""

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from orchestrator.core.enums import (
    ExitMetric,
    GateKind,
    GateStatus,
    ItemStatus,
    LaunchStatus,
    Phase,
    Role,
    RolloutState,
    Source,
    Vote,
    WaveMode,
)
from orchestrator.directory.seed import MemberSeed, RegionSeed, TeamSeed
from orchestrator.launches.spec import SLUG_PATTERN
from orchestrator.reporting.rag import Rag

T = TypeVar("T")


# ---- shared input rules -------------------------------------------------------------------------
# Ids and versions are INTEGER columns: anything past 2^31-1 cannot exist, and binding it would
# overflow the driver (SQLite) instead of answering "not found".
MAX_DB_INT = 2_147_483_647
DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
Version = Annotated[
    int | None, Field(ge=1, le=MAX_DB_INT, description="The version you read; a newer one answers 409.")
]
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999
# Query filters: PostgreSQL refuses NUL in text, so one would be a server error, not "no match".
NO_NUL = r"^[^\x00]+$"


def _utc(value: datetime) -> datetime:
    """Refuse naive times (a database would guess their zone) and ones no calendar here holds."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a timezone offset, e.g. 2027-03-01T09:00:00+00:00")
    try:
        converted = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}") from None
    if not EARLIEST_YEAR <= converted.year <= LATEST_YEAR:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return converted


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


def _link(value: str) -> str:
    cleaned = value.strip()
    if not cleaned.startswith(("https://", "http://")) or len(cleaned) <= len("https://") or " " in cleaned:
        raise ValueError("must be an http(s) link, e.g. https://wiki.example.com/launch/review")
    return cleaned


# The pattern is documented for clients (and fuzzers) but checked by ``_link``, whose message says more.
Link = Annotated[
    str,
    Field(max_length=2000, json_schema_extra={"pattern": r"^https?://\S+$", "format": "uri"}),
    AfterValidator(_link),
]


class CleanText(BaseModel):
    """Text fields of a request are never blank and never carry NUL bytes: PostgreSQL refuses
    NUL in text (a server error otherwise), and a blank reason says nothing to the ledger."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("must not contain NUL characters")
            if not value.strip():
                raise ValueError("must not be blank")
        return value


class Body(CleanText):
    """Base of every request body: unknown fields are refused, so a typo is a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int
    limit: int
    offset: int


class RegionDates(Body):
    region: str = Field(min_length=1, max_length=40, examples=["EU"])
    dates: dict[Phase, UtcDatetime] = Field(min_length=1, description="Phase dates with a timezone offset.")


class LaunchCreate(Body):
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
    beta_exit_criteria: dict[Phase, dict[ExitMetric, Annotated[int, Field(ge=0, le=MAX_DB_INT)]]] = Field(
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


class CriterionOut(BaseModel):
    metric: ExitMetric
    comparator: str = Field(description="<= or >=: the value must be this compared with the threshold.")
    threshold: int
    value: int
    met: bool


class GateOut(BaseModel):
    id: int
    phase: Phase
    kind: GateKind
    status: GateStatus
    criteria: list[CriterionOut] = Field(
        default_factory=list, description="Beta-exit gates: each criterion's current value and threshold."
    )


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


class ReasonIn(Body):
    reason: str = Field(min_length=1, max_length=1000)
    version: Version = None


class ResumeIn(Body):
    reason: str | None = Field(default=None, max_length=1000)
    version: Version = None


class RescheduleIn(Body):
    phase: Phase
    date: UtcDatetime = Field(description="The new phase date, with a timezone offset.")
    reason: str = Field(min_length=1, max_length=1000)
    version: Version = None


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


# ---- checklist items ---------------------------------------------------------------------------


class CheckIn(Body):
    evidence_url: Link | None = Field(default=None, description="Required for items that need evidence.")
    version: Version = None


class UncheckIn(Body):
    reason: str | None = Field(default=None, max_length=1000)
    version: Version = None


class VersionIn(Body):
    version: Version = None


class ItemReasonIn(Body):
    reason: str = Field(min_length=1, max_length=1000)
    version: Version = None


class WaiveIn(Body):
    reason: str = Field(min_length=1, max_length=1000, description="The risk accepted and why.")
    expires_at: UtcDatetime | None = Field(default=None, description="When the waiver lapses, with an offset.")
    version: Version = None


class AssignIn(Body):
    assignee_id: DbId | None = Field(description="A member id, or null to unassign.")
    version: Version = None


class EvidenceIn(Body):
    url: Link
    version: Version = None


class CommentIn(Body):
    text: str = Field(min_length=1, max_length=1000)


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    source: Source
    entity: str
    entity_id: int | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


# ---- decisions -----------------------------------------------------------------------------------


class VoteIn(Body):
    vote: Vote
    voter: str | None = Field(
        default=None,
        min_length=1,
        max_length=254,
        description="Defaults to the token's member email, or the token's name when it has no member.",
    )
    comment: str | None = Field(default=None, max_length=2000)
    conditions: str | None = Field(default=None, max_length=2000, description="Required for conditional_go.")
    risk_accepted_by: str | None = Field(default=None, max_length=254, description="Required for conditional_go.")
    reevaluate_at: UtcDatetime | None = Field(default=None, description="Required for no_go, with an offset.")


class DecisionOut(BaseModel):
    id: int
    gate_id: int
    gate_status: GateStatus
    phase: Phase
    region: str
    voter: str
    vote: Vote
    comment: str | None
    conditions: str | None
    risk_accepted_by: str | None
    reevaluate_at: datetime | None
    cast_at: datetime


class WaiverOut(BaseModel):
    id: int
    item_id: int
    item_key: str
    phase: Phase
    region: str
    approver: str
    reason: str
    expires_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


class DecisionLogOut(BaseModel):
    votes: list[DecisionOut]
    waivers: list[WaiverOut]


# ---- rollup --------------------------------------------------------------------------------------


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


class TeamReadinessOut(BaseModel):
    team: str
    team_name: str
    blocking_done: int = Field(description="Blocking items done, waived or n/a.")
    blocking_total: int
    done: int = Field(description="All items done, waived or n/a.")
    total: int


class SlipOut(BaseModel):
    region: str
    phase: Phase
    baseline_at: datetime
    current_at: datetime
    slip_days: float
    reason: str | None


class LaunchRollupOut(BaseModel):
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


# ---- directory (admin) ---------------------------------------------------------------------------


class TeamIn(TeamSeed, CleanText):
    """A team, validated exactly as the seed file validates it."""


class RegionIn(RegionSeed, CleanText):
    """A region, validated as the seed file does, plus bounds the database needs."""

    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    rollout_order: int = Field(default=100, ge=0, le=100_000)
    parent: str | None = Field(default=None, max_length=40)

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        """Replaces the seed's check: ZoneInfo raises OSError (not ValueError) for a directory
        such as "Europe" or an over-long name, which must be a 422, not a server error."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"{value!r} is not an IANA timezone (e.g. Europe/Berlin)") from None
        return value


class MemberIn(MemberSeed, CleanText):
    """A member, validated as the seed file does; ``team`` is a team key."""

    team: str | None = Field(default=None, max_length=40)


class TeamOut(BaseModel):
    id: int
    key: str
    name: str
    slack_channel: str | None


class RegionOut(BaseModel):
    id: int
    code: str
    name: str
    timezone: str
    slack_channel: str | None
    rollout_order: int
    parent: str | None


class MemberOut(BaseModel):
    id: int
    email: str
    name: str
    team: str | None
    role: Role
    slack_user_id: str | None
