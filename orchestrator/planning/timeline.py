"""The rollout timeline: each region of a launch as a lane over dates, in wave order, with every
phase's baseline and current date (a slip is the distance between them), the region's freezes and
rollout window, and the collisions each phase date is part of; and the portfolio, every active
launch on one time axis.

``lanes`` is pure (rows in, lanes out) so tests assert positions and slips exactly; the two
``*_timeline`` functions read what it needs in a fixed number of statements however many
launches there are (the planning snapshot's four, and a launch's reschedules).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from sqlalchemy import or_
from sqlmodel import Session, col

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import LaunchStatus, Phase, RolloutState, WaveMode
from orchestrator.core.errors import NotFound
from orchestrator.core.models import Launch
from orchestrator.core.settings import get_settings
from orchestrator.planning.collisions import Collision, entries_of, find_collisions, local_day
from orchestrator.planning.reads import (
    DateChange,
    Freeze,
    PhaseRow,
    RegionCalendar,
    date_changes,
    phase_rows,
    planned,
    region_calendars,
)
from orchestrator.planning.snapshot import PlanningSnapshot, planning_snapshot

MARGIN = timedelta(days=7)  # room on the axis before the first date and after the last
PER_PAGE = 20  # a row is a chart: twenty keep a page near 200 KB and its rendering near 25 ms


@dataclass(frozen=True)
class Reschedule:
    """One reschedule of a phase date, its dates as days in the region's timezone."""

    change: DateChange
    old_day: date
    new_day: date


@dataclass(frozen=True)
class PhaseMark:
    phase: Phase
    baseline_at: datetime
    current_at: datetime
    baseline_day: date  # the two dates as days in the region's timezone, as every page shows them
    current_day: date
    changes: tuple[Reschedule, ...] = ()
    conflicts: tuple[str, ...] = ()  # the sentences of the collisions this date is part of

    @property
    def slip_days(self) -> int:
        """Days from the baseline's day to the current one, in the region's calendar."""
        return (self.current_day - self.baseline_day).days


@dataclass(frozen=True)
class RegionLane:
    region: str
    name: str
    timezone: str
    wave: int  # 1 = first; a parallel launch has every region in wave 1
    state: RolloutState
    phase: Phase | None  # the phase the region is in (or at the gate of)
    skipped: tuple[Phase, ...]
    marks: tuple[PhaseMark, ...]
    freezes: tuple[Freeze, ...]
    window: str
    holiday_countries: tuple[str, ...]


@dataclass(frozen=True)
class LaunchLane:
    launch_id: int
    slug: str
    name: str
    tier: int
    status: LaunchStatus
    wave_mode: WaveMode
    regions: tuple[RegionLane, ...]

    @property
    def marks(self) -> list[PhaseMark]:
        return [mark for region in self.regions for mark in region.marks]

    @property
    def worst_slip(self) -> int:
        return max((mark.slip_days for mark in self.marks), default=0)

    @property
    def conflicts(self) -> int:
        return sum(len(mark.conflicts) for mark in self.marks)

    def spans(self) -> list[tuple[Phase, PhaseMark, PhaseMark, int]]:
        """Per phase, in order: its region with the earliest and the one with the latest current
        date, and the largest slip among them (the portfolio's one-line summary of a launch)."""
        found: dict[Phase, list[PhaseMark]] = defaultdict(list)
        for mark in self.marks:
            found[mark.phase].append(mark)
        return [
            (
                phase,
                min(found[phase], key=lambda mark: mark.current_at),
                max(found[phase], key=lambda mark: mark.current_at),
                max(mark.slip_days for mark in found[phase]),
            )
            for phase in Phase.ordered()
            if phase in found
        ]


@dataclass(frozen=True)
class Axis:
    """The dates a chart spans, and today."""

    start: date
    end: date
    today: date

    def fraction(self, at: datetime | date) -> float:
        """Where ``at`` falls between the start of the first day (0) and of the last (1); a
        plain date is its 00:00 UTC, as in every door."""
        moment = as_utc(at) if isinstance(at, datetime) else datetime.combine(at, time(0), tzinfo=UTC)
        return (moment.timestamp() - self._first) / self._span

    @cached_property
    def _first(self) -> float:
        return datetime.combine(self.start, time(0), tzinfo=UTC).timestamp()

    @cached_property
    def _span(self) -> float:
        return ((self.end - self.start).days or 1) * 86400.0


def axis_for(moments: Iterable[datetime], *, today: date) -> Axis:
    """From a week before the earliest of ``moments`` (or today) to a week after the latest."""
    days = [as_utc(moment).date() for moment in moments] + [today]
    return Axis(start=min(days) - MARGIN, end=max(days) + MARGIN, today=today)


def lanes(
    rows: Sequence[PhaseRow],
    calendars: Mapping[str, RegionCalendar],
    *,
    changes: Mapping[tuple[int, Phase], tuple[DateChange, ...]] | None = None,
    collisions: Sequence[Collision] = (),
) -> list[LaunchLane]:
    """The launches of ``rows`` as lanes (in the rows' order), each region's phases marked with
    its reschedules (``changes``) and the collisions it is part of."""
    conflicts: dict[tuple[str, str, Phase], list[str]] = defaultdict(list)
    for collision in collisions:
        for entry in collision.entries:
            conflicts[(entry.slug, entry.region, entry.phase)].append(collision.sentence)
    by_launch: dict[int, list[PhaseRow]] = defaultdict(list)
    for row in rows:
        by_launch[row.launch_id].append(row)
    return [_launch_lane(launch_rows, calendars, changes or {}, conflicts) for launch_rows in by_launch.values()]


def _launch_lane(
    rows: Sequence[PhaseRow],
    calendars: Mapping[str, RegionCalendar],
    changes: Mapping[tuple[int, Phase], tuple[DateChange, ...]],
    conflicts: Mapping[tuple[str, str, Phase], Sequence[str]],
) -> LaunchLane:
    first = rows[0].rollout.launch
    by_region: dict[str, list[PhaseRow]] = defaultdict(list)
    for row in rows:
        by_region[row.region].append(row)
    orders = sorted({calendars[code].rollout_order for code in by_region if code in calendars})
    regions = []
    for code, region_rows in by_region.items():
        calendar = calendars.get(code) or RegionCalendar(code=code, name=code, timezone="UTC", rollout_order=0)
        head = region_rows[0].rollout
        wave = orders.index(calendar.rollout_order) + 1 if first.wave_mode == WaveMode.SEQUENTIAL else 1
        marks = tuple(
            PhaseMark(
                phase=row.phase,
                baseline_at=row.baseline_at,
                current_at=row.current_at,
                baseline_day=local_day(row.baseline_at, calendar),
                current_day=local_day(row.current_at, calendar),
                changes=tuple(
                    Reschedule(change, local_day(change.old_at, calendar), local_day(change.new_at, calendar))
                    for change in changes.get((row.rollout.id, row.phase), ())
                ),
                conflicts=tuple(conflicts.get((row.slug, row.region, row.phase), ())),
            )
            for row in region_rows
        )
        regions.append(
            RegionLane(
                region=code,
                name=calendar.name,
                timezone=calendar.timezone,
                wave=wave,
                state=head.state,
                phase=head.current_phase,
                skipped=head.skipped,
                marks=marks,
                freezes=calendar.freezes,
                window=calendar.window_text,
                holiday_countries=calendar.holiday_countries,
            )
        )
    return LaunchLane(
        launch_id=first.id,
        slug=first.slug,
        name=first.name,
        tier=first.tier,
        status=first.status,
        wave_mode=first.wave_mode,
        regions=tuple(regions),
    )


@dataclass(frozen=True)
class LaunchTimeline:
    lane: LaunchLane
    axis: Axis
    generated_at: datetime
    collisions: tuple[Collision, ...]  # those this launch is part of


@dataclass(frozen=True)
class PortfolioTimeline:
    axis: Axis
    lanes: tuple[LaunchLane, ...]  # this page's
    total: int
    page: int
    pages: int
    generated_at: datetime


def launch_timeline(
    *, session: Session, slug: str, now: datetime, snapshot: PlanningSnapshot | None = None
) -> LaunchTimeline:
    """One launch's timeline: its phase dates, the collisions among every planned launch that it
    is part of, and its reschedules (five statements; one with a ``snapshot`` that holds it)."""
    if snapshot is None or not any(row.slug == slug for row in snapshot.rows):
        # Not planned (a completed launch), or no snapshot: read it with the planned launches.
        days = get_settings().collision_window_days
        calendars = region_calendars(session)
        rows = phase_rows(session, which=or_(planned(), col(Launch.slug) == slug))
        found = find_collisions(entries_of(rows, calendars), calendars, today=as_utc(now).date(), window_days=days)
        snapshot = PlanningSnapshot(as_utc(now).date(), days, calendars, rows, tuple(found))
    mine = [row for row in snapshot.rows if row.slug == slug]
    if not mine:
        raise NotFound("launch", slug, hint="see `launchdeck launch list` or the portfolio for the launches there are")
    involved = tuple(collision for collision in snapshot.collisions if collision.involves(slug))
    changes = date_changes(session, launch_id=mine[0].launch_id)
    (lane,) = lanes(mine, snapshot.calendars, changes=changes, collisions=involved)
    moments = [moment for mark in lane.marks for moment in (mark.baseline_at, mark.current_at)]
    axis = axis_for(moments, today=snapshot.today)
    return LaunchTimeline(lane=lane, axis=axis, generated_at=now, collisions=involved)


def portfolio_timeline(
    *,
    session: Session,
    now: datetime,
    page: int = 1,
    per_page: int | None = PER_PAGE,
    snapshot: PlanningSnapshot | None = None,
) -> PortfolioTimeline:
    """Every active launch on one axis (the axis spans all of them, so every page lines up), by
    slug, ``per_page`` a page (None: all on one); each phase marked with the collisions it is
    part of (among draft and active launches). Four statements, none with a ``snapshot``."""
    found = snapshot or planning_snapshot(session=session, now=now)
    active = [row for row in found.rows if row.status == LaunchStatus.ACTIVE]
    slugs = list(dict.fromkeys(row.slug for row in active))  # in the rows' order: by slug
    size = per_page or max(len(slugs), 1)
    pages = max(1, -(-len(slugs) // size))
    page = min(max(page, 1), pages)
    shown = set(slugs[(page - 1) * size : page * size])
    moments = [moment for row in active for moment in (row.baseline_at, row.current_at)]
    return PortfolioTimeline(
        axis=axis_for(moments, today=found.today),
        lanes=tuple(lanes([row for row in active if row.slug in shown], found.calendars, collisions=found.collisions)),
        total=len(slugs),
        page=page,
        pages=pages,
        generated_at=now,
    )
