"""The daily leadership digest: every active launch, region by region, with a RAG status and a
one-line reason, and the Outbox row that asks for it to be posted once a day.

Leadership asks "are we ready?" and "what slipped?" (research/domain.md §6); the digest answers
from the database in a fixed number of queries however many launches are active, so the
scheduled flow costs the same for two launches as for two hundred. The RAG rules live in one
pure function, ``rag_for``, and their thresholds in one ``RagRules`` (read from settings), so the
dashboard, the API rollup and the digest colour a launch exactly alike.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row
from sqlmodel import Session, col

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import LaunchStatus, Phase, RolloutState
from orchestrator.core.errors import InvalidInput
from orchestrator.core.ledger import record
from orchestrator.core.models import Launch
from orchestrator.core.outbox import enqueue
from orchestrator.core.sqltime import read_when
from orchestrator.core.topics import Topic
from orchestrator.core.unit import transaction
from orchestrator.gates.beta_exit import CriterionStatus, exit_statuses_where
from orchestrator.planning.collisions import Collision
from orchestrator.planning.conflicts import DIGEST_TOP, portfolio_collisions, week_collisions
from orchestrator.reporting.digest_reads import (
    ItemCounts,
    Planned,
    item_counts,
    launch_rows,
    planned_dates,
    rollout_rows,
    waiting_phases,
)
from orchestrator.reporting.forecast_misses import ForecastMiss, forecast_misses, latest_projections
from orchestrator.reporting.rag import Rag, RagRules, RegionDigest, rag_for

DIGEST_TOPIC = Topic.DIGEST_DAILY


_PHASE_ORDER = {phase: index for index, phase in enumerate(Phase.ordered())}


@dataclass(frozen=True)
class LaunchDigest:
    id: int
    slug: str
    name: str
    tier: int
    owner: str
    exec_sponsor: str | None
    rag: Rag
    reason: str
    regions: tuple[RegionDigest, ...]


@dataclass(frozen=True)
class Digest:
    generated_at: datetime
    launches: tuple[LaunchDigest, ...]
    # The week's readiness forecasts that missed their phase dates (the whole digest only).
    forecast_misses: tuple[ForecastMiss, ...] = ()
    # The top collisions of the coming week (orchestrator/planning), and how many that week has.
    collisions: tuple[Collision, ...] = ()
    collisions_in_week: int = 0

    def count(self, rag: Rag) -> int:
        return sum(1 for launch in self.launches if launch.rag == rag)

    def to_payload(self) -> dict[str, Any]:
        """JSON-safe form for the Outbox (enums as values, times as ISO 8601 UTC)."""
        return {
            "generated_at": self.generated_at.isoformat(),
            "date": self.generated_at.date().isoformat(),
            "counts": {rag.value: self.count(rag) for rag in Rag},
            "launches": [
                {
                    "id": launch.id,
                    "slug": launch.slug,
                    "name": launch.name,
                    "tier": launch.tier,
                    "owner": launch.owner,
                    "exec_sponsor": launch.exec_sponsor,
                    "rag": launch.rag.value,
                    "reason": launch.reason,
                    "regions": [_region_payload(region) for region in launch.regions],
                }
                for launch in self.launches
            ],
            "forecast_misses": [
                {
                    "slug": miss.slug,
                    "region": miss.region,
                    "phase": miss.phase.value,
                    "phase_at": miss.phase_at.isoformat(),
                    "projected_at": miss.projected_at.isoformat(),
                    "days_late": miss.days_late,
                    "made_at": miss.made_at.isoformat(),
                    "reason": miss.reason,
                }
                for miss in self.forecast_misses
            ],
            "collisions": [_collision_payload(collision) for collision in self.collisions],
            "collisions_in_week": self.collisions_in_week,
        }


def build_leadership_digest(
    *,
    session: Session,
    now: datetime,
    rules: RagRules | None = None,
    launch_ids: Sequence[int] | None = None,
    exit_statuses: Mapping[tuple[int, Phase], Sequence[CriterionStatus]] | None = None,
    with_forecast_misses: bool = True,
    with_collisions: bool = False,
) -> Digest:
    """Read every active launch into a digest with seven queries (ten when any launch has beta exit
    criteria; one more, the week's forecast misses, for the whole digest), whatever the launch count;
    ``with_collisions`` (the Slack digest) adds the coming week's top collisions among all draft and
    active launches (``planning.conflicts``: five more).

    A pure read: it writes nothing and leaves the transaction to the caller, who should end it
    (on SQLite a read left open keeps reading the same snapshot). ``rules`` defaults to the
    configured thresholds (``RagRules.from_settings()``). ``launch_ids`` narrows it to those
    launches whatever their status (the dashboard's launch page colours one launch the same way).
    ``exit_statuses`` are the beta exit criteria of these launches' gates when the caller has
    already read them (the launch page shows every gate's), so they are not read twice. The week's
    forecast misses are read for the whole digest unless ``with_forecast_misses`` is False.
    """
    now = _aware(now)
    rules = rules or RagRules.from_settings()
    which = (
        col(Launch.id).in_(list(launch_ids)) if launch_ids is not None else col(Launch.status) == LaunchStatus.ACTIVE
    )
    launches = launch_rows(session, which=which)
    rollouts = rollout_rows(session, which=which)
    dates = planned_dates(session, which=which)
    items = item_counts(session, which=which, now=now)
    criteria = exit_statuses
    if criteria is None:
        criteria = exit_statuses_where(session=session, launches=which, now=now)
    waiting = waiting_phases(session, which=which)
    projections = latest_projections(session, which=which)
    regions: dict[int, list[RegionDigest]] = defaultdict(list)
    for rollout_id, launch_id, state, current_phase, percent, code, region_name, timezone, skipped in rollouts:
        gate_phase = waiting.get(rollout_id)
        regions[launch_id].append(
            _region_digest(
                region=(code, region_name, state, current_phase, percent),
                timezone=timezone,
                skipped=tuple(phase for phase in Phase.ordered() if phase.value in skipped),
                counts=items.get(rollout_id, ItemCounts()),
                dates=dates[rollout_id],
                gate_phase=gate_phase,
                criteria=criteria.get((rollout_id, gate_phase), ()) if gate_phase else (),
                forecast_done_at=_projected(projections.get(rollout_id), gate_phase),
            )
        )
    digests = [_launch_digest(launch, regions=tuple(regions[launch.id]), now=now, rules=rules) for launch in launches]
    digests.sort(key=lambda launch: (launch.rag.severity, launch.slug))
    misses = forecast_misses(session, which=which, now=now) if launch_ids is None and with_forecast_misses else ()
    digest = Digest(generated_at=now, launches=tuple(digests), forecast_misses=misses)
    return _with_collisions(session, digest=digest) if with_collisions else digest


def _with_collisions(session: Session, *, digest: Digest) -> Digest:
    """The Slack digest's extra: the coming week's top collisions, and how many the week has (the
    dashboard's and the rollup's colours do without, so they run no planning queries)."""
    week = week_collisions(portfolio_collisions(session=session, now=digest.generated_at), top=None)
    return replace(digest, collisions=week[:DIGEST_TOP], collisions_in_week=len(week))


def _region_digest(
    *,
    region: tuple[str, str, RolloutState, Phase | None, int],
    timezone: str,
    skipped: tuple[Phase, ...],
    counts: ItemCounts,
    dates: dict[Phase, Planned],
    gate_phase: Phase | None,
    criteria: Sequence[CriterionStatus],
    forecast_done_at: datetime | None = None,
) -> RegionDigest:
    """One region's line: ``region`` is its code, name, state, phase and percent as read."""
    code, region_name, state, current_phase, percent = region
    slip_phase, slip_days = _slip(current_phase, dates)
    gate_date = dates.get(gate_phase) if gate_phase is not None else None
    return RegionDigest(
        region=code,
        region_name=region_name,
        state=state,
        phase=current_phase,
        percent=percent,
        open_blocking=counts.open_blocking,
        overdue_blocking=counts.overdue_blocking,
        blocked=counts.blocked,
        blocked_blocking=counts.blocked_blocking,
        next_blocking_due_at=counts.next_blocking_due_at,
        slip_days=slip_days,
        slip_phase=slip_phase,
        next_gate_phase=gate_phase,
        next_gate_at=read_when(gate_date.current_at) if gate_date is not None else None,
        next_gate_criteria=tuple(criteria),
        skipped_phases=skipped,
        timezone=timezone,
        forecast_done_at=forecast_done_at,
    )


def _projected(latest: tuple[Phase, datetime] | None, gate_phase: Phase | None) -> datetime | None:
    """The latest forecast's projected date, if it is of the gate the region waits at now."""
    return latest[1] if latest is not None and latest[0] == gate_phase else None


def _launch_digest(
    launch: Row[*tuple[Any, ...]], *, regions: tuple[RegionDigest, ...], now: datetime, rules: RagRules
) -> LaunchDigest:
    """A launch row as read by ``launch_rows``, coloured by its regions."""
    status = rag_for(regions, now=now, rules=rules)
    return LaunchDigest(
        id=launch.id,
        slug=launch.slug,
        name=launch.name,
        tier=launch.tier,
        owner=launch.owner,
        exec_sponsor=launch.exec_sponsor,
        rag=status.rag,
        reason=status.reason,
        regions=regions,
    )


def digest_key(now: datetime) -> str:
    """One digest per UTC day: a second run that day finds its key taken and queues nothing."""
    return f"digest:daily:{_aware(now).astimezone(UTC).date().isoformat()}"


def queue_leadership_digest(*, session: Session, now: datetime, actor: Actor, digest: Digest | None = None) -> bool:
    """Queue today's digest for posting; False when today's is already queued.

    Pass ``digest`` when the caller built it already (the flow renders the same one as an
    artifact) so both show the same numbers; it must have been built at ``now``.
    """
    now = _aware(now)
    key = digest_key(now)
    if digest is not None and digest.generated_at != now:
        raise InvalidInput("digest", f"was built at {digest.generated_at.isoformat()}, not at now={now.isoformat()}")
    with transaction(session):
        if digest is None:
            digest = build_leadership_digest(session=session, now=now, with_collisions=True)
        row = enqueue(session, key=key, topic=DIGEST_TOPIC, launch_id=None, payload=digest.to_payload())
        if row is None:
            return False
        record(
            session,
            actor=actor,
            entity="digest",
            entity_id=None,
            action="digest.queued",
            launch_id=None,
            after={"key": key, "launches": len(digest.launches), **{rag.value: digest.count(rag) for rag in Rag}},
        )
    return True


def _slip(current: Phase | None, dates: dict[Phase, Planned]) -> tuple[Phase | None, int]:
    """The largest slip (current date minus baseline, in whole days, rounded so a DST hour does
    not count) over the phase the region is in and every later one; phases already behind the
    region are history, not risk. A phase pulled in counts as no slip."""
    start = _PHASE_ORDER[current] if current is not None else 0
    worst: tuple[Phase | None, int] = (None, 0)
    for phase in Phase.ordered()[start:]:
        planned = dates.get(phase)
        if planned is None:
            continue
        if planned.slip_days > worst[1]:
            worst = (phase, planned.slip_days)
    return worst


def _region_payload(region: RegionDigest) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "region": region.region,
        "region_name": region.region_name,
        "state": region.state.value,
        "phase": region.phase.value if region.phase else None,
        "percent": region.percent,
        "open_blocking": region.open_blocking,
        "overdue_blocking": region.overdue_blocking,
        "blocked": region.blocked,
        "blocked_blocking": region.blocked_blocking,
        "next_blocking_due_at": when(region.next_blocking_due_at),
        "slip_days": region.slip_days,
        "slip_phase": region.slip_phase.value if region.slip_phase else None,
        "next_gate_phase": region.next_gate_phase.value if region.next_gate_phase else None,
        "skipped_phases": [phase.value for phase in region.skipped_phases],
        "next_gate_at": when(region.next_gate_at),
        "forecast_done_at": when(region.forecast_done_at),
        "next_gate_criteria": [
            {
                "metric": status.metric.value,
                "comparator": status.comparator,
                "threshold": status.threshold,
                "value": status.value,
                "met": status.met,
            }
            for status in region.next_gate_criteria
        ],
    }


def _collision_payload(collision: Collision) -> dict[str, Any]:
    return {
        "kind": collision.kind.value,
        "region": collision.region,
        "phase": collision.phase.value,
        "date": collision.day.isoformat(),
        "launches": list(collision.slugs),
        "sentence": collision.sentence,
    }


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise InvalidInput("now", "needs a timezone (launchdeck works in aware UTC)")
    return as_utc(now)
