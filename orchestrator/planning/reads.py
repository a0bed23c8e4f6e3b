"""The planning views' reads: the regions' calendars (timezone, freezes, rollout window, holiday
countries) in one statement, and every phase date of the chosen launches with its launch and
region in another, so a page over two hundred launches runs the same statements as one over two.

Plain columns, not ORM entities (nothing tracked, nothing stale); timestamps are read as text and
parsed only here (``read_when``), which is several times cheaper on SQLite than the column type's
own conversion for thousands of dates.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, type_coerce
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
class PhaseRow:
    """One phase date of one region of a launch, with what the views show beside it."""

    launch_id: int
    slug: str
    name: str
    tier: int
    status: LaunchStatus
    wave_mode: WaveMode
    rollout_id: int
    region: str
    state: RolloutState
    current_phase: Phase | None
    skipped: tuple[Phase, ...]
    phase: Phase
    baseline_at: datetime
    current_at: datetime


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


def _phase_statement(which: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    return (
        select_columns(
            col(Launch.id),
            col(Launch.slug),
            col(Launch.name),
            col(Launch.tier),
            col(Launch.status),
            col(Launch.wave_mode),
            col(RegionRollout.id),
            col(Region.code),
            col(RegionRollout.state),
            col(RegionRollout.phase),
            col(RegionRollout.skipped_phases),
            col(PhaseDate.phase),
            type_coerce(col(PhaseDate.baseline_at), String),
            type_coerce(col(PhaseDate.current_at), String),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(which)
        .order_by(col(Launch.slug), col(Region.rollout_order), col(Region.code))
    )


def phase_rows(session: Session, *, which: ColumnElement[bool]) -> tuple[PhaseRow, ...]:
    """Every phase date of the launches ``which`` chooses, with launch and region, in one
    statement: by launch slug, then region (rollout order), then phase."""
    rows = []
    for (
        launch_id,
        slug,
        name,
        tier,
        status,
        wave_mode,
        rollout_id,
        code,
        state,
        current,
        skipped,
        *dated,
    ) in session.execute(_phase_statement(which)):
        phase, baseline, now_at = dated
        rows.append(
            PhaseRow(
                launch_id=launch_id,
                slug=slug,
                name=name,
                tier=tier,
                status=status,
                wave_mode=wave_mode,
                rollout_id=rollout_id,
                region=code,
                state=state,
                current_phase=current,
                skipped=tuple(each for each in Phase.ordered() if each.value in (skipped or ())),
                phase=phase,
                baseline_at=read_when(baseline),
                current_at=read_when(now_at),
            )
        )
    # The statement orders launches and regions; phases within a region are put in order here.
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    position: dict[int, int] = {}
    for index, row in enumerate(rows):
        position.setdefault(row.rollout_id, index)
    rows.sort(key=lambda row: (position[row.rollout_id], order[row.phase]))
    return tuple(rows)


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
