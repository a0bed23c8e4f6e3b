"""One launch's post-launch retro, assembled from its facts: produced when the launch completes
(the region flow that takes the last region live publishes it as a Prefect artifact) and on
demand for any launch (figures so far). A pure read."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from orchestrator.core.enums import LaunchStatus, Phase
from orchestrator.retros.facts import RetroFacts, read_facts
from orchestrator.retros.figures import (
    Accuracy,
    BetaFigures,
    Bottleneck,
    PhaseTimes,
    TeamOverdue,
    accuracy,
    beta_figures,
    bottlenecks,
    overall_accuracy,
    overdue_by_team,
    phase_times,
)


@dataclass(frozen=True)
class Slip:
    region: str
    phase: Phase
    old_at: datetime
    new_at: datetime
    reason: str
    by: str
    changed_at: datetime

    @property
    def days(self) -> int:
        """Whole days moved (later positive), rounded so a DST hour does not count."""
        return round((self.new_at - self.old_at) / timedelta(days=1))


@dataclass(frozen=True)
class WaiverLine:
    region: str
    phase: Phase
    item: str
    team: str
    approver: str
    reason: str
    granted_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class ConditionalGo:
    region: str
    phase: Phase
    voter: str
    conditions: str
    risk_accepted_by: str | None
    cast_at: datetime
    voided: bool


@dataclass(frozen=True)
class Retro:
    slug: str
    name: str
    tier: int
    owner: str
    status: LaunchStatus
    kicked_off_at: datetime | None
    completed_at: datetime | None
    generated_at: datetime
    phases: tuple[PhaseTimes, ...]  # per region in rollout order, then phase
    bottlenecks: tuple[Bottleneck, ...]
    slips: tuple[Slip, ...]
    waivers: tuple[WaiverLine, ...]
    conditional_gos: tuple[ConditionalGo, ...]
    overdue: tuple[TeamOverdue, ...]
    accuracy: tuple[Accuracy, ...]
    accuracy_mean_abs_days: float | None
    beta: tuple[BetaFigures, ...]

    @property
    def complete(self) -> bool:
        return self.status == LaunchStatus.COMPLETED

    @property
    def duration(self) -> timedelta | None:
        if self.kicked_off_at is None or self.completed_at is None:
            return None
        return self.completed_at - self.kicked_off_at


def launch_retro(*, session: Session, slug: str, now: datetime) -> Retro:
    """The retro of launch ``slug`` as of ``now`` (NotFound for an unknown slug). Leaves the read's
    transaction to the caller."""
    return build_retro(read_facts(session=session, slug=slug), now=now)


def build_retro(facts: RetroFacts, *, now: datetime) -> Retro:
    """The retro from its facts: pure."""
    codes = {region.rollout_id: region.code for region in facts.regions}
    items = {item.id: item for item in facts.items}
    launch_events = {event.action: event.at for event in reversed(facts.events) if event.rollout_id is None}
    found = accuracy(facts.regions, facts.gates, facts.forecasts)
    return Retro(
        slug=facts.launch.slug,
        name=facts.launch.name,
        tier=facts.launch.tier,
        owner=facts.launch.owner,
        status=facts.launch.status,
        kicked_off_at=launch_events.get("launch.kicked_off"),
        completed_at=launch_events.get("launch.completed"),
        generated_at=now,
        phases=phase_times(facts.regions, facts.gates, facts.events),
        bottlenecks=bottlenecks(facts.regions, facts.gates, facts.items, facts.changes),
        slips=tuple(
            Slip(codes.get(s.rollout_id, "?"), s.phase, s.old_at, s.new_at, s.reason, s.actor, s.changed_at)
            for s in facts.slips
        ),
        waivers=tuple(
            WaiverLine(
                region=codes.get(items[w.item_id].rollout_id, "?"),
                phase=items[w.item_id].phase,
                item=items[w.item_id].title,
                team=items[w.item_id].team,
                approver=w.approver,
                reason=w.reason,
                granted_at=w.created_at,
                expires_at=w.expires_at,
                revoked_at=w.revoked_at,
            )
            for w in facts.waivers
            if w.item_id in items
        ),
        conditional_gos=tuple(
            ConditionalGo(
                codes.get(c.rollout_id, "?"),
                c.phase,
                c.voter,
                c.conditions,
                c.risk_accepted_by,
                c.cast_at,
                c.voided_at is not None,
            )
            for c in facts.conditional_gos
        ),
        overdue=overdue_by_team(facts.items, now=now),
        accuracy=found,
        accuracy_mean_abs_days=overall_accuracy(found),
        beta=beta_figures(facts.regions, facts.feedback),
    )
