"""Tables of beta programs: cohorts, enrollments, feedback and exit criteria."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from orchestrator.core.enums import (
    EnrollmentStatus,
    EnrollmentVia,
    ExitMetric,
    FeedbackStatus,
    FeedbackType,
    Phase,
)
from orchestrator.core.models.columns import created_now, enum_field, json_dict, json_list, timestamp


class BetaCohort(SQLModel, table=True):
    """The accounts let into one beta phase of a launch in one region, up to a cap."""

    __table_args__ = (UniqueConstraint("launch_id", "region_id", "phase"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    region_id: int = Field(foreign_key="region.id", index=True)
    phase: Phase = enum_field(Phase)
    cap: int = Field(ge=1)
    # Who may join: {"plans": [...], "segments": [...]}; an empty list admits any value.
    eligibility: dict[str, Any] = json_dict()
    version: int = Field(default=1)
    created_at: datetime = created_now()


class BetaEnrollment(SQLModel, table=True):
    """One account in one cohort: enrolled (holds a seat), waitlisted, or opted out (final)."""

    __table_args__ = (UniqueConstraint("cohort_id", "account"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="betacohort.id", index=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    account: str = Field(max_length=120, index=True)
    status: EnrollmentStatus = enum_field(EnrollmentStatus, EnrollmentStatus.ENROLLED, index=True)
    via: EnrollmentVia = enum_field(EnrollmentVia)
    requested_by: str = Field(max_length=254)
    # What the account looked like when it was let in (plan, segment, region): the rules may change.
    eligibility_snapshot: dict[str, Any] = json_dict()
    terms_accepted_by: str | None = Field(default=None, max_length=254)
    terms_accepted_at: datetime | None = timestamp(nullable=True)
    requested_at: datetime = created_now()
    enrolled_at: datetime | None = timestamp(nullable=True)
    opted_out_at: datetime | None = timestamp(nullable=True)
    version: int = Field(default=1)


class BetaFeedback(SQLModel, table=True):
    """What a beta account hit; duplicates merge into one row that keeps their counts."""

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    rollout_id: int = Field(foreign_key="regionrollout.id", index=True)
    phase: Phase = enum_field(Phase)
    account: str = Field(max_length=120)
    type: FeedbackType = enum_field(FeedbackType)
    severity: int = Field(ge=1, le=4)
    text: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, max_length=2000)
    status: FeedbackStatus = enum_field(FeedbackStatus, FeedbackStatus.OPEN, index=True)
    merged_into_id: int | None = Field(default=None, foreign_key="betafeedback.id")
    # Reports folded into this row (itself included) and the distinct accounts behind them.
    reports: int = Field(default=1)
    accounts: list[str] = json_list()
    submitted_by: str = Field(max_length=254)
    created_at: datetime = created_now()
    resolved_at: datetime | None = timestamp(nullable=True)
    version: int = Field(default=1)


class BetaExitCriterion(SQLModel, table=True):
    """A measurable condition for leaving a beta phase; together they make the next phase's
    beta-exit gate in every region that plans both phases."""

    __table_args__ = (UniqueConstraint("launch_id", "phase", "metric"),)

    id: int | None = Field(default=None, primary_key=True)
    launch_id: int = Field(foreign_key="launch.id", index=True)
    phase: Phase = enum_field(Phase)  # the beta phase being left
    metric: ExitMetric = enum_field(ExitMetric)
    threshold: int = Field(ge=0)
