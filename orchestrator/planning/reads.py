"""The planning views' reads: the regions' calendars (timezone, freezes, rollout window, holiday
countries) in one statement, and every phase date of the chosen launches with its launch and
region in three more, so a page over two hundred launches runs the same statements as one over two.

Plain columns, not ORM entities (nothing tracked, nothing stale); timestamps (and each date's
phase) are read as text and parsed only here (``read_when``), which is several times cheaper on
SQLite than the column types' own conversion for thousands of dates.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, String, type_coerce
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.enums import LaunchStatus, Phase, RolloutState, WaveMode
from orchestrator.core.models import Launch, PhaseDate, PhaseDateChange, Region, RegionRollout
from orchestrator.core.sqltime import read_when

# Launches whose dates still matter to anyone planning: those running and those about to.
PLANNED_STATUSES = (LaunchStatus.DRAFT, LaunchStatus.ACTIVE)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Freeze:
    start: date
    end: date  # included
    reason: str

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def label(self) -> str:
        what = f"freeze '{self.reason}'" if self.reason else "freeze"
        return f"{what} ({self.start:%Y-%m-%d} to {self.end:%Y-%m-%d})"


@dataclass(frozen=True)
class RegionCalendar:
    """What a region's dates must respect: its zone, freezes, rollout window, holiday countries."""

    code: str
    name: str
    timezone: str
    rollout_order: int
    freezes: tuple[Freeze, ...] = ()
    window: Mapping[str, Any] | None = None
    holiday_countries: tuple[str, ...] = ()

    @property
    def window_text(self) -> str:
        """The rollout window in words: "Mon-Fri 09:00-17:00 local", or "any time"."""
        if not self.window:
            return "any time"
        days = sorted(int(day) for day in self.window.get("days", range(7)))
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
            named = f"{WEEKDAYS[days[0]]}-{WEEKDAYS[days[-1]]}"
        else:
            named = ", ".join(WEEKDAYS[day] for day in days)
        return f"{named} {self.window.get('start', '00:00')}-{self.window.get('end', '23:59')} local"


@dataclass(frozen=True)
class LaunchRow:
    id: int
    slug: str
    name: str
    tier: int
    status: LaunchStatus
    wave_mode: WaveMode


@dataclass(frozen=True)
class RolloutRow:
    """One region of a launch: its state, the phase it is in, the phases it skips."""

    id: int
    launch: LaunchRow
    region: str
    state: RolloutState
    current_phase: Phase | None
    skipped: tuple[Phase, ...]


class PhaseRow(NamedTuple):
    """One phase date of one region of a launch; the launch and region are shared by its rows (a
    tuple, not a dataclass: the portfolio builds thousands of them)."""

    rollout: RolloutRow
    phase: Phase
    baseline_at: datetime
    current_at: datetime

    @property
    def launch_id(self) -> int:
        return self.rollout.launch.id

    @property
    def slug(self) -> str:
        return self.rollout.launch.slug

    @property
    def name(self) -> str:
        return self.rollout.launch.name

    @property
    def tier(self) -> int:
        return self.rollout.launch.tier

    @property
    def status(self) -> LaunchStatus:
        return self.rollout.launch.status

    @property
    def region(self) -> str:
        return self.rollout.region


@dataclass(frozen=True)
class DateChange:
    """One reschedule of a phase date (``PhaseDateChange``), for the launch timeline's table."""

    old_at: datetime
    new_at: datetime
    actor: str
    reason: str
    changed_at: datetime


def _freezes(raw: Sequence[Mapping[str, Any]]) -> tuple[Freeze, ...]:
    """The region's freezes as dates; one that does not parse is left out here (the gate refuses
    it with its own message, and a planning view should still show the rest)."""
    found = []
    for entry in raw or ():
        try:
            start, end = date.fromisoformat(str(entry["start"])), date.fromisoformat(str(entry["end"]))
            found.append(Freeze(start, end, str(entry.get("reason") or "")))
        except (KeyError, ValueError):
            continue
    return tuple(sorted(found, key=lambda freeze: freeze.start))


def region_calendars(session: Session) -> dict[str, RegionCalendar]:
    """Every region's calendar by code, in rollout order."""
    rows = session.execute(
        select_columns(
            col(Region.code),
            col(Region.name),
            col(Region.timezone),
            col(Region.rollout_order),
            col(Region.freezes),
            col(Region.rollout_window),
            col(Region.holiday_countries),
        ).order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    return {
        code: RegionCalendar(
            code=code,
            name=name,
            timezone=timezone,
            rollout_order=order,
            freezes=_freezes(freezes),
            window=window,
            holiday_countries=tuple(countries or ()),
        )
        for code, name, timezone, order, freezes, window, countries in rows
    }


def planned(*statuses: LaunchStatus) -> ColumnElement[bool]:
    """Launches in ``statuses`` (default: draft and active, the ones still being planned)."""
    return col(Launch.status).in_(statuses or PLANNED_STATUSES)


def _launches(session: Session, which: ColumnElement[bool]) -> dict[int, LaunchRow]:
    statement = select_columns(
        col(Launch.id), col(Launch.slug), col(Launch.name), col(Launch.tier), col(Launch.status), col(Launch.wave_mode)
    ).where(which)
    return {row[0]: LaunchRow(*row) for row in session.execute(statement)}


def _rollouts(session: Session, which: ColumnElement[bool], launches: Mapping[int, LaunchRow]) -> list[RolloutRow]:
    """The chosen launches' regions: by launch slug, then region rollout order."""
    statement = (
        select_columns(
            col(RegionRollout.id),
            col(RegionRollout.launch_id),
            col(Region.code),
            col(RegionRollout.state),
            col(RegionRollout.phase),
            col(RegionRollout.skipped_phases),
        )
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(which)
        .order_by(col(Launch.slug), col(Region.rollout_order), col(Region.code))
    )
    return [
        RolloutRow(
            rollout_id,
            launches[launch_id],
            code,
            state,
            current,
            tuple(phase for phase in Phase.ordered() if phase.value in (skipped or ())),
        )
        for rollout_id, launch_id, code, state, current, skipped in session.execute(statement)
    ]


def phase_rows(session: Session, *, which: ColumnElement[bool]) -> tuple[PhaseRow, ...]:
    """Every phase date of the launches ``which`` chooses, by launch slug, region (rollout order)
    and phase, in three statements (launches, regions, dates: each launch's and region's columns
    read once, not once per date)."""
    launches = _launches(session, which)
    rollouts = _rollouts(session, which, launches)
    dates: dict[int, list[tuple[str, str, str]]] = {rollout.id: [] for rollout in rollouts}
    statement = (
        select_columns(
            col(PhaseDate.rollout_id),
            type_coerce(col(PhaseDate.phase), String),
            type_coerce(col(PhaseDate.baseline_at), String),
            type_coerce(col(PhaseDate.current_at), String),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(which)
    )
    for rollout_id, phase, baseline, current in session.execute(statement):
        dates.setdefault(rollout_id, []).append((phase, baseline, current))
    order = {phase.value: index for index, phase in enumerate(Phase.ordered())}
    parsed: dict[str, datetime] = {}  # a launch's regions mostly share their dates: parse each once

    def when(text: str) -> datetime:
        found = parsed.get(text)
        if found is None:
            found = parsed[text] = read_when(text)
        return found

    return tuple(
        PhaseRow(rollout, Phase(phase), when(baseline), when(current))
        for rollout in rollouts
        for phase, baseline, current in sorted(dates[rollout.id], key=lambda dated: order[dated[0]])
    )


def date_changes(session: Session, *, launch_id: int) -> dict[tuple[int, Phase], tuple[DateChange, ...]]:
    """Every reschedule of the launch's phase dates, oldest first, by (rollout id, phase)."""
    statement = (
        select_columns(
            col(PhaseDate.rollout_id),
            col(PhaseDate.phase),
            type_coerce(col(PhaseDateChange.old_at), String),
            type_coerce(col(PhaseDateChange.new_at), String),
            col(PhaseDateChange.actor),
            col(PhaseDateChange.reason),
            type_coerce(col(PhaseDateChange.changed_at), String),
        )
        .join(PhaseDate, col(PhaseDate.id) == col(PhaseDateChange.phase_date_id))
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .where(col(RegionRollout.launch_id) == launch_id)
        .order_by(col(PhaseDateChange.id))
    )
    found: dict[tuple[int, Phase], list[DateChange]] = {}
    for rollout_id, phase, old_at, new_at, actor, reason, changed_at in session.execute(statement):
        change = DateChange(read_when(old_at), read_when(new_at), actor, reason, read_when(changed_at))
        found.setdefault((rollout_id, phase), []).append(change)
    return {key: tuple(changes) for key, changes in found.items()}
