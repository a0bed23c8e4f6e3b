"""Request and response bodies of the beta program routes."""

from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.common import MAX_DB_INT, Body, Link, StoredUtc, view_of
from orchestrator.beta.queries import CohortView
from orchestrator.core.enums import EnrollmentStatus, EnrollmentVia, ExitMetric, FeedbackStatus, FeedbackType, Phase
from orchestrator.core.models import AuditEvent, BetaEnrollment, BetaFeedback, Region, text_limit


class CohortIn(Body):
    region: str = Field(min_length=1, max_length=text_limit(Region.code), examples=["EU"])
    phase: Phase = Field(examples=["private_beta"])
    cap: int = Field(strict=True, ge=1, le=100_000, description="At most this many enrolled accounts; the rest wait.")
    plans: list[str] = Field(default_factory=list, max_length=50, description="Eligible plans; empty admits any.")
    segments: list[str] = Field(default_factory=list, max_length=50, description="Eligible segments; empty admits any.")


class CapIn(Body):
    cap: int = Field(strict=True, ge=1, le=100_000)


class CohortOut(BaseModel):
    model_config = view_of(CohortView, "cohort")

    id: int
    region: str
    phase: Phase
    cap: int
    eligibility: dict[str, Any]
    enrolled: int
    waitlisted: int
    opted_out: int
    active: int = Field(description="Enrolled accounts that accepted the terms.")


class EnrollIn(Body):
    account: str = Field(min_length=1, max_length=text_limit(BetaEnrollment.account), examples=["acme-corp"])
    via: EnrollmentVia = Field(
        description="invite (prodops), nomination (e.g. by sales) or self (the account's own opt-in)."
    )
    plan: str | None = Field(default=None, min_length=1, max_length=80, examples=["enterprise"])
    segment: str | None = Field(default=None, min_length=1, max_length=80, examples=["fintech"])
    account_region: str | None = Field(
        default=None, min_length=1, max_length=text_limit(Region.code), description="Default: the cohort's."
    )
    terms_accepted_by: str | None = Field(
        default=None, min_length=1, max_length=text_limit(BetaEnrollment.terms_accepted_by)
    )


class TermsIn(Body):
    accepted_by: str = Field(
        min_length=1, max_length=text_limit(BetaEnrollment.terms_accepted_by), examples=["cto@acme.example"]
    )


class OptOutIn(Body):
    account: str = Field(min_length=1, max_length=text_limit(BetaEnrollment.account))
    reason: str | None = Field(default=None, max_length=text_limit(AuditEvent.reason))


class EnrollmentOut(BaseModel):
    id: int
    cohort_id: int
    account: str
    status: EnrollmentStatus
    via: EnrollmentVia
    requested_by: str
    eligibility_snapshot: dict[str, Any]
    terms_accepted_by: str | None
    terms_accepted_at: StoredUtc | None
    requested_at: StoredUtc
    enrolled_at: StoredUtc | None
    opted_out_at: StoredUtc | None


class FeedbackIn(Body):
    region: str = Field(min_length=1, max_length=text_limit(Region.code), examples=["EU"])
    phase: Phase = Field(examples=["private_beta"])
    account: str = Field(min_length=1, max_length=text_limit(BetaFeedback.account))
    type: FeedbackType
    severity: int = Field(strict=True, ge=1, le=4, description="1 blocks use or loses data ... 4 cosmetic.")
    text: str = Field(min_length=1, max_length=4000)
    link: Link | None = None


class MergeIn(Body):
    into: int = Field(strict=True, ge=1, le=MAX_DB_INT, description="The report this one duplicates.")


class ResolveIn(Body):
    reason: str | None = Field(default=None, max_length=text_limit(AuditEvent.reason))


class FeedbackOut(BaseModel):
    id: int
    rollout_id: int
    phase: Phase
    account: str
    type: FeedbackType
    severity: int
    text: str
    link: str | None
    status: FeedbackStatus
    merged_into_id: int | None
    reports: int
    accounts: list[str]
    submitted_by: str
    created_at: StoredUtc
    resolved_at: StoredUtc | None


class RankedOut(BaseModel):
    rank: int
    score: float
    feedback_id: int
    region: str
    phase: Phase
    type: FeedbackType
    severity: int
    reports: int
    accounts: int
    text: str
    link: str | None


class ExitCriteriaIn(Body):
    phase: Phase = Field(description="The beta phase the criteria are for leaving.", examples=["private_beta"])
    criteria: dict[ExitMetric, Annotated[int, Field(strict=True, ge=0, le=MAX_DB_INT)]] = Field(
        description="Thresholds by metric; an empty object clears the phase's criteria.",
        examples=[{"open_severity_1": 0, "active_accounts": 20, "fix_weeks": 2}],
    )
