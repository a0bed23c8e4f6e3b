"""Beta feedback scoring: one ranked list per launch (and region) for the product manager.

The score is Centercode's impact idea (weight by severity, multiply by popularity) with reach made
explicit, so an issue hit by many accounts outranks one account reporting it many times::

    score = severity_weight[severity] * reports ** frequency_exponent * accounts ** reach_exponent

- ``severity_weight``: ``LAUNCHDECK_BETA_SEVERITY_WEIGHTS`` (default 1: 8, 2: 4, 3: 2, 4: 1, so
  each severity step doubles the weight);
- ``reports``: how many reports were folded into this one by merging duplicates (itself included);
- ``accounts``: the distinct accounts behind those reports;
- ``frequency_exponent`` (``LAUNCHDECK_BETA_FREQUENCY_EXPONENT``, default 0.5: repeated reports
  count with diminishing returns) and ``reach_exponent`` (``LAUNCHDECK_BETA_REACH_EXPONENT``,
  default 1.0).

Only open reports are ranked (resolved ones are done; merged ones live on in their target). Ties
break by severity (more severe first), then more reports, then the older report, then the lower
id, so the order is the same every time it is computed.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlmodel import Session, col, select

from orchestrator.core.enums import FeedbackStatus, FeedbackType, Phase
from orchestrator.core.models import BetaFeedback, Region, RegionRollout
from orchestrator.core.settings import get_settings


@dataclass(frozen=True)
class ScoringConfig:
    severity_weights: Mapping[int, float]
    frequency_exponent: float
    reach_exponent: float

    @classmethod
    def from_settings(cls) -> "ScoringConfig":
        settings = get_settings()
        return cls(
            severity_weights=dict(settings.beta_severity_weights),
            frequency_exponent=settings.beta_frequency_exponent,
            reach_exponent=settings.beta_reach_exponent,
        )


@dataclass(frozen=True)
class RankedFeedback:
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


def score(*, severity: int, reports: int, accounts: int, config: ScoringConfig) -> float:
    """The documented formula; rounded so equal inputs give exactly equal scores."""
    weight = config.severity_weights.get(severity, 0.0)
    value: float = weight * max(reports, 1) ** config.frequency_exponent * max(accounts, 1) ** config.reach_exponent
    return round(value, 6)


def ranked_feedback(
    *,
    session: Session,
    launch_id: int,
    region: str | None = None,
    phase: Phase | None = None,
    config: ScoringConfig | None = None,
    limit: int | None = None,
) -> list[RankedFeedback]:
    """Open feedback of a launch (optionally one region and/or phase), highest score first."""
    config = config or ScoringConfig.from_settings()
    statement = (
        select(BetaFeedback, Region.code)
        .join(RegionRollout, col(RegionRollout.id) == col(BetaFeedback.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(BetaFeedback.launch_id == launch_id, BetaFeedback.status == FeedbackStatus.OPEN)
    )
    if region is not None:
        statement = statement.where(Region.code == region)
    if phase is not None:
        statement = statement.where(BetaFeedback.phase == phase)
    scored = []
    for feedback, code in session.exec(statement):
        assert feedback.id is not None
        reach = len(set(feedback.accounts)) or 1
        value = score(severity=feedback.severity, reports=feedback.reports, accounts=reach, config=config)
        scored.append((value, feedback, code, reach))
    scored.sort(key=lambda row: (-row[0], row[1].severity, -row[1].reports, row[1].created_at, row[1].id))
    if limit is not None:
        scored = scored[:limit]
    return [
        RankedFeedback(
            rank=index,
            score=value,
            feedback_id=feedback.id,  # type: ignore[arg-type]
            region=code,
            phase=feedback.phase,
            type=feedback.type,
            severity=feedback.severity,
            reports=feedback.reports,
            accounts=reach,
            text=feedback.text,
            link=feedback.link,
        )
        for index, (value, feedback, code, reach) in enumerate(scored, start=1)
    ]
