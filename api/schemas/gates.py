"""Gates and decisions: a gate with its beta exit criteria, a vote, and the decision log (votes
and waivers)."""

from pydantic import BaseModel, Field

from api.schemas.common import Body, StoredUtc, UtcDatetime, view_of
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


class VoteIn(Body):
    vote: Vote
    voter: str | None = Field(
        default=None,
        min_length=1,
        max_length=text_limit(Decision.voter),
        description="Defaults to the token's member email, or the token's name when it has no member.",
    )
    comment: str | None = Field(default=None, max_length=text_limit(Decision.comment))
    conditions: str | None = Field(
        default=None, max_length=text_limit(Decision.conditions), description="Required for conditional_go."
    )
    risk_accepted_by: str | None = Field(
        default=None, max_length=text_limit(Decision.risk_accepted_by), description="Required for conditional_go."
    )
    reevaluate_at: UtcDatetime | None = Field(default=None, description="Required for no_go, with an offset.")


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
