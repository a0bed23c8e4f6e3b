"""Collisions for the portfolio, the week's top ones for the leadership digest, and the dry runs:
what creating a launch or moving a phase date would collide with, before anything is saved.

A dry run reads and computes; it writes nothing (no launch, no date, no audit event, no outbox
row), so a door may call it as often as a person changes their mind. It refuses what the real
change would refuse on the same grounds it can check without templates (a taken slug, an unknown
region, a phase the region skips, a date out of order), with the same messages.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc, region_moment
from orchestrator.core.enums import Phase
from orchestrator.core.errors import AlreadyExists, InvalidInput, NotFound
from orchestrator.core.models import Launch, PhaseDate, RegionRollout
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.core.settings import get_settings
from orchestrator.directory.queries import rollout_timezone
from orchestrator.launches.schedule import check_phase_order, date_to_move
from orchestrator.launches.spec import LaunchSpec
from orchestrator.planning.collisions import (
    PHASE_WORDS,
    Collision,
    CollisionKind,
    Entry,
    entries_of,
    find_collisions,
    local_day,
)
from orchestrator.planning.reads import phase_rows, planned, region_calendars
from orchestrator.planning.snapshot import PlanningSnapshot, planning_snapshot
from orchestrator.rollouts.brakes import region_label

DIGEST_TOP = 5  # collisions the leadership digest lists
DIGEST_DAYS = 7  # ... among those in the coming week


@dataclass(frozen=True)
class CollisionReport:
    today: date
    window_days: int
    collisions: tuple[Collision, ...]

    def count(self, kind: CollisionKind) -> int:
        return sum(1 for collision in self.collisions if collision.kind == kind)


@dataclass(frozen=True)
class ConflictPreview:
    """What a change would collide with (``conflicts``) and which of today's collisions it would
    end (``resolved``): shown before the change is saved."""

    subject: str
    conflicts: tuple[Collision, ...]
    resolved: tuple[Collision, ...]
    window_days: int

    @property
    def summary(self) -> str:
        if not self.conflicts:
            text = f"{self.subject}: no collision"
        else:
            text = f"{self.subject}: {len(self.conflicts)} collision{'s' if len(self.conflicts) != 1 else ''}"
        if self.resolved:
            text += f"; it would end {len(self.resolved)}"
        return text + " (nothing saved)"


def _window_days(window_days: int | None) -> int:
    return get_settings().collision_window_days if window_days is None else window_days


def portfolio_collisions(
    *, session: Session, now: datetime, window_days: int | None = None, snapshot: PlanningSnapshot | None = None
) -> CollisionReport:
    """Every collision ahead among the draft and active launches, soonest first (four statements,
    none with a ``snapshot`` of the same day)."""
    found = snapshot or planning_snapshot(session=session, now=now, window_days=window_days)
    return CollisionReport(today=found.today, window_days=found.window_days, collisions=found.collisions)


def week_collisions(
    report: CollisionReport, *, days: int = DIGEST_DAYS, top: int | None = DIGEST_TOP
) -> tuple[Collision, ...]:
    """The digest's few: collisions dated within ``days`` of the report's day, soonest first
    (``top`` of them; None: all)."""
    until = report.today + timedelta(days=days)
    return tuple(collision for collision in report.collisions if collision.day <= until)[:top]


def preview_new_launch(*, session: Session, spec: LaunchSpec, actor: Actor, now: datetime) -> ConflictPreview:
    """The collisions ``spec`` would bring if it were created now."""
    require_role(actor, LAUNCH_OPERATORS, doing="check a new launch's collisions")
    if session.exec(select(Launch.id).where(Launch.slug == spec.slug)).first() is not None:
        raise AlreadyExists("launch", spec.slug)
    calendars = region_calendars(session)
    unknown = [plan.region for plan in spec.regions if plan.region not in calendars]
    if unknown:
        raise InvalidInput("regions", f"unknown region(s) {', '.join(unknown)}; known regions: {', '.join(calendars)}")
    existing = entries_of(phase_rows(session, which=planned()), calendars)
    new = [
        Entry(
            spec.slug,
            spec.name,
            spec.tier,
            plan.region,
            phase,
            as_utc(at),
            local_day(as_utc(at), calendars[plan.region]),
        )
        for plan in spec.regions
        for phase, at in plan.dates.items()
    ]
    days = _window_days(None)
    found = find_collisions([*existing, *new], calendars, today=as_utc(now).date(), window_days=days)
    mine = tuple(collision for collision in found if collision.involves(spec.slug))
    return ConflictPreview(subject=f"new launch {spec.slug}", conflicts=mine, resolved=(), window_days=days)


def preview_reschedule(
    *, session: Session, rollout_id: int, phase: Phase, new_at: date | datetime, actor: Actor, now: datetime
) -> ConflictPreview:
    """The collisions moving the region's ``phase`` to ``new_at`` would bring, and the ones it
    would end; ``new_at`` read as ``reschedule_phase`` reads it (a plain day: its start in the
    region's timezone), and refused as it refuses a phase it cannot move or a date out of order."""
    require_role(actor, LAUNCH_OPERATORS, doing="check a reschedule's collisions")
    rollout = session.get(RegionRollout, rollout_id)
    if rollout is None:
        raise NotFound("region rollout", rollout_id)
    new_at = region_moment(new_at, timezone=rollout_timezone(session=session, rollout_id=rollout_id), field="new_at")
    where = region_label(session, rollout=rollout)
    dates = {row.phase: row for row in session.exec(select(PhaseDate).where(PhaseDate.rollout_id == rollout_id))}
    date_to_move(dates, phase=phase, rollout=rollout, where=where)
    check_phase_order(dates, phase, new_at)
    slug, region = where.rsplit(" ", 1)
    calendars = region_calendars(session)
    rows = phase_rows(session, which=or_(planned(), col(Launch.id) == rollout.launch_id))
    before = entries_of(rows, calendars)
    moved_day = local_day(new_at, calendars.get(region))
    moved = [
        Entry(e.slug, e.name, e.tier, e.region, e.phase, new_at, moved_day)
        if (e.slug, e.region, e.phase) == (slug, region, phase)
        else e
        for e in before
    ]
    days = _window_days(None)
    today = as_utc(now).date()
    after = [
        c for c in find_collisions(moved, calendars, today=today, window_days=days) if c.involves(slug, region, phase)
    ]
    kept = {collision.key for collision in after}
    ended = [
        collision
        for collision in find_collisions(before, calendars, today=today, window_days=days)
        if collision.involves(slug, region, phase) and collision.key not in kept
    ]
    subject = f"{slug} {region} {PHASE_WORDS[phase]} to {moved_day:%Y-%m-%d}"
    return ConflictPreview(subject=subject, conflicts=tuple(after), resolved=tuple(ended), window_days=days)
