"""Gates and decisions: a gate with its beta exit criteria, a vote, and the decision log (votes
and waivers)."""

from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import Body, RegionDate, StoredUtc, view_of
from orchestrator.core.clock import PLAIN_DATE_MEANING
from orchestrator.core.enums import ExitMetric, GateKind, GateStatus, Phase, Vote
from orchestrator.core.models import Decision, text_limit
from orchestrator.reporting.decisions import VoteView, WaiverView


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
    approvers: list[str] = Field(default_factory=list, description="Approval gates: the member emails who vote.")
    quorum: int | None = Field(default=None, description="Approval gates: Gos needed (null: every approver).")
    distinct_teams: bool = Field(default=False, description="Approval gates: the Gos must come from distinct teams.")


class VoteIn(Body):
    vote: Vote
    voter: str | None = Field(
        default=None,
        min_length=1,
        max_length=text_limit(Decision.voter),
        description="Optional: the signed-in member's own email. A vote counts for the person whose token casts "
        "it; any other name is a vote on behalf of someone else (see on_behalf_of).",
    )
    on_behalf_of: str | None = Field(
        default=None,
        min_length=1,
        max_length=text_limit(Decision.voter),
        description="prodops/admin only (and unless LAUNCHDECK_VOTES_ON_BEHALF=false): record this approver's vote, "
        "given elsewhere, e.g. in a go/no-go meeting. Needs on_behalf_reason; audited with both names.",
    )
    on_behalf_reason: str | None = Field(
        default=None, max_length=text_limit(Decision.on_behalf_reason), description="Where the vote was given."
    )
    comment: str | None = Field(default=None, max_length=text_limit(Decision.comment))
    conditions: str | None = Field(
        default=None, max_length=text_limit(Decision.conditions), description="Required for conditional_go."
    )
    risk_accepted_by: str | None = Field(
        default=None, max_length=text_limit(Decision.risk_accepted_by), description="Required for conditional_go."
    )
    reevaluate_at: RegionDate | None = Field(
        default=None,
        description=f"Required for no_go: ISO 8601 with an offset; {PLAIN_DATE_MEANING} (the gate's region).",
    )


class DecisionOut(BaseModel):
    model_config = view_of(VoteView, "decision")

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
    reevaluate_at: StoredUtc | None
    cast_at: StoredUtc
    recorded_by: str | None = Field(description="Who recorded a vote given on behalf of its voter (else null).")
    on_behalf_reason: str | None
    voided_at: StoredUtc | None = Field(description="Set when what the vote approved changed: it no longer counts.")
    void_reason: str | None


class WaiverOut(BaseModel):
    model_config = view_of(WaiverView, "waiver")

    id: int
    item_id: int
    item_key: str
    phase: Phase
    region: str
    approver: str
    reason: str
    expires_at: StoredUtc | None
    created_at: StoredUtc
    revoked_at: StoredUtc | None
    revoked_by: str | None


class DecisionLogOut(BaseModel):
    votes: list[DecisionOut]
    waivers: list[WaiverOut]


class ApproversIn(Body):
    phase: Phase
    approvers: list[Annotated[str, Field(min_length=3, max_length=254)]] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=1, max_length=500, description="Why they change; votes already cast are void.")
    region: str | None = Field(default=None, max_length=40, description="One region only (default: every region).")
    quorum: int | None = Field(default=None, ge=1, le=50, description="Gos needed (default: every approver).")
    distinct_teams: bool = False
