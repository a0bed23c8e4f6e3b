"""What the planning pages share: every draft and active launch's phase dates, the regions'
calendars and the collisions among them, read and computed in one go (four statements) for one
day. The portfolio timeline, the collisions and a launch's timeline are each a view of it, so a
server may keep one snapshot until the next recorded change (``api/planning_cache.py``), as it
keeps the portfolio."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from orchestrator.core.clock import as_utc
from orchestrator.core.settings import get_settings
from orchestrator.planning.collisions import Collision, entries_of, find_collisions
from orchestrator.planning.reads import PhaseRow, RegionCalendar, phase_rows, planned, region_calendars


@dataclass(frozen=True)
class PlanningSnapshot:
    today: date
    window_days: int
    calendars: Mapping[str, RegionCalendar]
    rows: tuple[PhaseRow, ...]  # every draft and active launch's phase dates
    collisions: tuple[Collision, ...]  # among them, ahead of ``today``, soonest first


def planning_snapshot(*, session: Session, now: datetime, window_days: int | None = None) -> PlanningSnapshot:
    days = get_settings().collision_window_days if window_days is None else window_days
    today = as_utc(now).date()
    calendars = region_calendars(session)
    rows = phase_rows(session, which=planned())
    found = find_collisions(entries_of(rows, calendars), calendars, today=today, window_days=days)
    return PlanningSnapshot(today=today, window_days=days, calendars=calendars, rows=rows, collisions=tuple(found))
