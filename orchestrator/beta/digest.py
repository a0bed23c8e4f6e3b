"""The weekly beta feedback digest: for each active launch with open feedback, its top-ranked
reports per region, so the product manager's triage starts from the same list every week.

Queued once per ISO week (the outbox key names the week), so a re-run or a retry of the
scheduled flow posts nothing twice.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from orchestrator.beta.scoring import RankedFeedback, ScoringConfig, ranked_feedback
from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import FeedbackStatus, LaunchStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import BetaFeedback, Launch
from orchestrator.core.outbox import enqueue
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction

TOPIC = Topic.DIGEST_BETA_WEEKLY
TOP_PER_LAUNCH = 10


@dataclass(frozen=True)
class BetaLaunchDigest:
    slug: str
    name: str
    owner: str
    open_reports: int
    open_severity_1: int
    top: tuple[RankedFeedback, ...]


@dataclass(frozen=True)
class BetaDigest:
    generated_at: datetime
    week: str  # ISO week, e.g. 2027-W09
    launches: tuple[BetaLaunchDigest, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "week": self.week,
            "launches": [
                {"slug": launch.slug, "open": launch.open_reports, "severity_1": launch.open_severity_1}
                for launch in self.launches
            ],
        }


def week_of(now: datetime) -> str:
    year, week, _ = as_utc(now).isocalendar()
    return f"{year}-W{week:02d}"


def build_beta_digest(
    *, session: Session, now: datetime, top: int = TOP_PER_LAUNCH, config: ScoringConfig | None = None
) -> BetaDigest:
    """Active launches with open feedback, most severity-1 first, each with its top reports."""
    if now.tzinfo is None:
        raise InvalidInput("now", "needs a timezone (launchdeck works in aware UTC)")
    config = config or ScoringConfig.from_settings()
    counts = session.exec(
        select(
            BetaFeedback.launch_id,
            func.count(),
            func.sum(case((col(BetaFeedback.severity) == 1, 1), else_=0)),
        )
        .join(Launch, col(Launch.id) == col(BetaFeedback.launch_id))
        .where(BetaFeedback.status == FeedbackStatus.OPEN, Launch.status == LaunchStatus.ACTIVE)
        .group_by(col(BetaFeedback.launch_id))
    ).all()
    launches = []
    for launch_id, open_reports, severity_1 in counts:
        launch = session.get(Launch, launch_id)
        assert launch is not None
        launches.append(
            BetaLaunchDigest(
                slug=launch.slug,
                name=launch.name,
                owner=launch.owner,
                open_reports=int(open_reports),
                open_severity_1=int(severity_1 or 0),
                top=tuple(ranked_feedback(session=session, launch_id=launch_id, config=config, limit=top)),
            )
        )
    launches.sort(key=lambda digest: (-digest.open_severity_1, -digest.open_reports, digest.slug))
    return BetaDigest(generated_at=as_utc(now), week=week_of(now), launches=tuple(launches))


def queue_beta_digest(*, session: Session, now: datetime, actor: Actor) -> bool:
    """Queue this week's digest; False when it is already queued (or there is nothing to say)."""
    digest = build_beta_digest(session=session, now=now)
    with transaction(session):
        if not digest.launches:
            return False
        row = enqueue(
            session, key=f"digest:beta:{digest.week}", topic=TOPIC, launch_id=None, payload=digest.to_payload()
        )
        if row is None:
            return False
        record(
            session,
            actor=actor,
            entity="digest",
            entity_id=None,
            action="digest.beta_queued",
            launch_id=None,
            after={"week": digest.week, "launches": len(digest.launches)},
        )
    return True
