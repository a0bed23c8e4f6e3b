"""SQLModel tables: the single source of truth for launches, gates, items and their history.

Conventions: every timestamp is timezone-aware UTC; enums are stored as their string values (no
native database enums, so adding a value never needs a type migration); rows that several writers
race on carry a ``version`` column that services compare-and-set.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, Dialect, Index, String, Text, UniqueConstraint, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from orchestrator.core.clock import utcnow
from orchestrator.core.enums import (
    SATISFYING_STATUSES,
    EnrollmentStatus,
    EnrollmentVia,
    ExitMetric,
    FeedbackStatus,
    FeedbackType,
    GateKind,
    GateStatus,
    ItemStatus,
    LaunchStatus,
    OutboxStatus,
    Phase,
    Role,
    RolloutState,
    Source,
    Vote,
    WaveMode,
)


def _when(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp column."""
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable, index=index)


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


# An open blocking checklist item, as SQL both databases read alike (booleans as IS TRUE, the
# satisfying statuses as literals): the predicate of ix_checklistitem_open_blocking. Its column
# names are unqualified, so use it only where checklistitem is the one table in scope (a subquery
# over it): next to launch, "status" is ambiguous.
OPEN_BLOCKING_ITEM = "blocking IS TRUE AND status NOT IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(SATISFYING_STATUSES))
)


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum stored as its plain string value and read back as the enum member."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_type: type[StrEnum]) -> None:
        super().__init__()
        self.enum_type = enum_type
        # A dict lookup instead of calling the enum class on every row read: Enum.__call__ was a
        # sixth of the portfolio's time (thousands of phases and states per page).
        self._members: dict[str, StrEnum] = {member.value: member for member in enum_type}

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        if value is None:
            return None
        member = self._members.get(value)
        return member if member is not None else self.enum_type(value)


def _enum(enum_type: type[StrEnum], default: Any = None, *, index: bool = False, nullable: bool = False) -> Any:
    return Field(default=default, sa_type=EnumText(enum_type), nullable=nullable, index=index)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _json_dict(*, nullable: bool = False) -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=nullable))


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=120)
    slack_channel: str | None = Field(default=None, max_length=80)


class Member(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=120)
    slack_user_id: str | None = Field(default=None, max_length=40, unique=True, index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    role: Role = _enum(Role, Role.MEMBER)


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
    rollout_window: dict[str, Any] | None = _json_dict(nullable=True)
    freezes: list[dict[str, Any]] = _json_list()


class Launch(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    name: str = Field(max_length=200)
    tier: int = Field(ge=1, le=3)
    status: LaunchStatus = _enum(LaunchStatus, LaunchStatus.DRAFT, index=True)
    owner: str = Field(max_length=254)
    exec_sponsor: str | None = Field(default=None, max_length=254)
    flags: list[str] = _json_list()
    template_version: str | None = Field(default=None, max_length=80)
    # sequential: a region enters a phase only after every region before it is live in it.
    wave_mode: WaveMode = _enum(WaveMode, WaveMode.PARALLEL)
    # Exposure steps per phase: {"ga": [{"percent": 5, "hold_minutes": 60}, ...]}; missing phases use defaults.
    ramp_plan: dict[str, Any] = _json_dict()
    version: int = Field(default=1)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class RegionRollout(SQLModel, table=True):
    """One launch in one region, moving through the phases on its own dates."""

    __table_args__ = (UniqueConstraint("launch_id", "region_id"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    state: RolloutState = _enum(RolloutState, RolloutState.PLANNED, index=True)
    phase: Phase | None = _enum(Phase, None, nullable=True)
    percent: int = Field(default=0, ge=0, le=100)
    # The state a halt interrupted, so resume returns exactly there.
    halted_from: RolloutState | None = _enum(RolloutState, None, nullable=True)
    halt_reason: str | None = Field(default=None, max_length=500)
    reevaluate_at: datetime | None = _when(nullable=True)
    # When the clock alone may move this region (a phase date, a window opening, a ramp hold ending).
    next_check_at: datetime | None = _when(nullable=True, index=True)
    # A worker's short claim on running this region's flow, so two workers do not both start it.
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _when(nullable=True)
    version: int = Field(default=1)
    updated_at: datetime = _created()


class PhaseDate(SQLModel, table=True):
    """When a region enters a phase: the first plan (baseline) and the current plan."""

    __table_args__ = (UniqueConstraint("rollout_id", "phase"),)

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = _enum(Phase)
    baseline_at: datetime = Field(sa_type=DateTime(timezone=True))
    current_at: datetime = Field(sa_type=DateTime(timezone=True))


class PhaseDateChange(SQLModel, table=True):
    """One reschedule of a phase date: the slip history leadership reads."""

    id: int | None = Field(default=None, primary_key=True)
    phase_date_id: int = Field(foreign_key="phasedate.id", index=True)
    old_at: datetime = Field(sa_type=DateTime(timezone=True))
    new_at: datetime = Field(sa_type=DateTime(timezone=True))
    actor: str = Field(max_length=254)
    reason: str = Field(max_length=1000)
    changed_at: datetime = _created()


class Gate(SQLModel, table=True):
    """One condition a region must meet before entering a phase; passes once."""

    __table_args__ = (UniqueConstraint("rollout_id", "phase", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = _enum(Phase)
    kind: GateKind = _enum(GateKind)
    status: GateStatus = _enum(GateStatus, GateStatus.PENDING, index=True)
    # Approval gates: who must vote (member emails). Empty means any approver may decide.
    approvers: list[str] = _json_list()
    opened_at: datetime | None = _when(nullable=True)
    passed_at: datetime | None = _when(nullable=True)
    version: int = Field(default=1)


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
    )

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = _enum(Phase)
    key: str = Field(max_length=120)
    title: str = Field(max_length=300)
    description: str = Field(default="", max_length=4000)
    owner_team_id: int = Field(foreign_key="team.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    due_at: datetime | None = _when(nullable=True, index=True)
    # Days relative to the phase date, kept so a reschedule can move the due date with it.
    due_offset_days: int | None = Field(default=None)
    blocking: bool = Field(default=True)
    evidence_required: bool = Field(default=False)
    depends_on: list[str] = _json_list()
    status: ItemStatus = _enum(ItemStatus, ItemStatus.TODO, index=True)
    evidence_url: str | None = Field(default=None, max_length=2000)
    blocked_reason: str | None = Field(default=None, max_length=1000)
    checked_by: str | None = Field(default=None, max_length=254)
    checked_at: datetime | None = _when(nullable=True)
    # Overdue reminders: throttled per item, escalated to the team channel after a few days late.
    last_reminded_at: datetime | None = _when(nullable=True)
    reminders_sent: int = Field(default=0)
    escalated_at: datetime | None = _when(nullable=True)
    version: int = Field(default=1)
    updated_at: datetime = _created()


class RagSnapshot(SQLModel, table=True):
    """A launch's RAG as the daily digest saw it, one row per launch and UTC day, so the
    dashboard can show the trend against last week without recomputing history."""

    __table_args__ = (UniqueConstraint("launch_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    day: date = Field(sa_type=Date, nullable=False)
    rag: str = Field(max_length=16)
    reason: str = Field(max_length=2000)
    taken_at: datetime = _created()


class Waiver(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="checklistitem.id", index=True)
    approver: str = Field(max_length=254)
    reason: str = Field(max_length=1000)
    expires_at: datetime | None = _when(nullable=True)
    created_at: datetime = _created()
    revoked_at: datetime | None = _when(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=254)


class Decision(SQLModel, table=True):
    """One approver's current vote on an approval gate; a changed vote replaces it (audited)."""

    __table_args__ = (UniqueConstraint("gate_id", "voter"),)

    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    voter: str = Field(max_length=254)
    vote: Vote = _enum(Vote)
    comment: str | None = Field(default=None, max_length=2000)
    # Conditional Go: the conditions accepted and who accepted the risk.
    conditions: str | None = Field(default=None, max_length=2000)
    risk_accepted_by: str | None = Field(default=None, max_length=254)
    # No-Go: when the region is looked at again.
    reevaluate_at: datetime | None = _when(nullable=True)
    cast_at: datetime = _created()


class AuditEvent(SQLModel, table=True):
    """Append-only ledger: nothing changes without one of these in the same transaction."""

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    entity: str = Field(max_length=40)
    entity_id: int | None = Field(default=None)
    action: str = Field(max_length=60)
    actor: str = Field(max_length=254)
    source: Source = _enum(Source)
    before: dict[str, Any] | None = _json_dict(nullable=True)
    after: dict[str, Any] | None = _json_dict(nullable=True)
    reason: str | None = Field(default=None, max_length=1000)
    at: datetime = _created()


class Outbox(SQLModel, table=True):
    """A side effect promised by a committed change; delivered later, at most once per key."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    topic: str = Field(max_length=80, index=True)
    launch_id: int | None = Field(default=None, foreign_key="launch.id", index=True)
    payload: dict[str, Any] = _json_dict()
    status: OutboxStatus = _enum(OutboxStatus, OutboxStatus.PENDING, index=True)
    attempts: int = Field(default=0)
    # Times a deliverer took the row. Above one, an earlier deliverer may have done part of the work
    # unseen (killed, or its answer lost), so delivery checks before repeating a side effect.
    claims: int = Field(default=0)
    next_attempt_at: datetime = _created()
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _created()
    delivered_at: datetime | None = _when(nullable=True)


class ExposureChange(SQLModel, table=True):
    """What the built-in recording rollout target received: one row per exposure request (a
    region re-ramped after a rollback gets new rows, with new keys)."""

    id: int | None = Field(default=None, primary_key=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    launch_slug: str = Field(max_length=80, index=True)
    region: str = Field(max_length=40)
    phase: Phase = _enum(Phase)
    percent: int = Field(ge=0, le=100)
    idempotency_key: str = Field(max_length=300, unique=True)
    received_at: datetime = _created()


class DeliveryCursor(SQLModel, table=True):
    """How far a fire-and-forget consumer (e.g. Prefect events) has read the outbox."""

    name: str = Field(primary_key=True, max_length=60)
    last_outbox_id: int = Field(default=0)
    updated_at: datetime = _created()


class ApiToken(SQLModel, table=True):
    """A bearer token for the API. Only a SHA-256 of the secret is stored; the secret is shown once."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: Role = _enum(Role)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = _created()
    last_used_at: datetime | None = _when(nullable=True)
    revoked_at: datetime | None = _when(nullable=True)


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
    created_at: datetime = _created()


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
    phase: Phase | None = _enum(Phase, None, nullable=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    channel: str = Field(max_length=80)
    ts: str = Field(max_length=40)
    item_ids: list[int] = _json_list()
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    blocks: list[dict[str, Any]] = _json_list()
    created_at: datetime = _created()
    updated_at: datetime = _created()


class BetaCohort(SQLModel, table=True):
    """The accounts let into one beta phase of a launch in one region, up to a cap."""

    __table_args__ = (UniqueConstraint("launch_id", "region_id", "phase"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    phase: Phase = _enum(Phase)
    cap: int = Field(ge=1)
    # Who may join: {"plans": [...], "segments": [...]}; an empty list admits any value.
    eligibility: dict[str, Any] = _json_dict()
    version: int = Field(default=1)
    created_at: datetime = _created()


class BetaEnrollment(SQLModel, table=True):
    """One account in one cohort: enrolled (holds a seat), waitlisted, or opted out (final)."""

    __table_args__ = (UniqueConstraint("cohort_id", "account"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="betacohort.id", index=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    account: str = Field(max_length=120, index=True)
    status: EnrollmentStatus = _enum(EnrollmentStatus, EnrollmentStatus.ENROLLED, index=True)
    via: EnrollmentVia = _enum(EnrollmentVia)
    requested_by: str = Field(max_length=254)
    # What the account looked like when it was let in (plan, segment, region): the rules may change.
    eligibility_snapshot: dict[str, Any] = _json_dict()
    terms_accepted_by: str | None = Field(default=None, max_length=254)
    terms_accepted_at: datetime | None = _when(nullable=True)
    requested_at: datetime = _created()
    enrolled_at: datetime | None = _when(nullable=True)
    opted_out_at: datetime | None = _when(nullable=True)
    version: int = Field(default=1)


class BetaFeedback(SQLModel, table=True):
    """What a beta account hit; duplicates merge into one row that keeps their counts."""

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = _enum(Phase)
    account: str = Field(max_length=120)
    type: FeedbackType = _enum(FeedbackType)
    severity: int = Field(ge=1, le=4)
    text: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=2000)
    status: FeedbackStatus = _enum(FeedbackStatus, FeedbackStatus.OPEN, index=True)
    merged_into_id: int | None = Field(default=None, foreign_key="betafeedback.id")
    # Reports folded into this row (itself included) and the distinct accounts behind them.
    reports: int = Field(default=1)
    accounts: list[str] = _json_list()
    submitted_by: str = Field(max_length=254)
    created_at: datetime = _created()
    resolved_at: datetime | None = _when(nullable=True)
    version: int = Field(default=1)


class BetaExitCriterion(SQLModel, table=True):
    """A measurable condition for leaving a beta phase; together they make the next phase's
    beta-exit gate in every region that plans both phases."""

    __table_args__ = (UniqueConstraint("launch_id", "phase", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    phase: Phase = _enum(Phase)  # the beta phase being left
    metric: ExitMetric = _enum(ExitMetric)
    threshold: int = Field(ge=0)
