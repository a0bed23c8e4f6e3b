"""GTM load: how many open checklist items each team owes per week across every draft and active
launch, against the team's capacity (``Team.capacity_per_week``, else
LAUNCHDECK_TEAM_CAPACITY_PER_WEEK). A week is Monday to Sunday in UTC; an item counts in the week
of its due date while it is open (to do, in progress or blocked); open items due before this week
are counted apart as overdue (work still owed, but no longer a week's plan). Items without a due
date are not in any week.

One statement counts every team's weeks (per team and week a range count on the partial index
of open items, ix_checklistitem_open_team_due), whatever the number of launches; the drill-down
lists one team's items of one week.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from sqlalchemy import ColumnElement, ScalarSelect, String, TextClause, func, text, type_coerce
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import ItemStatus, Phase
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.models import OPEN_ITEM, ChecklistItem, Launch, Member, Region, RegionRollout, Team
from orchestrator.core.settings import get_settings
from orchestrator.core.sqltime import read_when
from orchestrator.directory.seed import KEY_PATTERN
from orchestrator.planning.reads import planned

DEFAULT_WEEKS = 8
MAX_WEEKS = 26
ITEMS_SHOWN = 500  # a drill-down lists at most this many items (and says how many there are)
OVERDUE = "overdue"  # the drill-down's name for "before this week"


def week_of(moment: datetime | date) -> date:
    """The Monday of the UTC week ``moment`` falls in."""
    day = as_utc(moment).date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def check_weeks(weeks: int) -> int:
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput("weeks", f"show 1 to {MAX_WEEKS} weeks, not {weeks}")
    return weeks


def parse_week(text: str) -> date | None:
    """A drill-down's week: any day of it (YYYY-MM-DD; its Monday is meant), or ``overdue`` for
    the open items due before this week (None)."""
    cleaned = text.strip()
    if cleaned == OVERDUE:
        return None
    try:
        return week_of(date.fromisoformat(cleaned))
    except ValueError:
        raise InvalidInput(
            "week", f"{cleaned[:40]!r} is not a week; give a day of it (YYYY-MM-DD) or 'overdue'"
        ) from None


@dataclass(frozen=True)
class LoadCell:
    week: date
    items: int
    capacity: int

    @property
    def over(self) -> bool:
        return self.items > self.capacity

    @property
    def percent(self) -> int:
        """Items as a share of capacity, capped at 100 (how full the cell's bar is drawn)."""
        return min(100, round(100 * self.items / self.capacity)) if self.capacity else 100


@dataclass(frozen=True)
class TeamLoad:
    team: str  # key
    name: str
    capacity: int
    capacity_set: bool  # the directory gives it (False: the default)
    overdue: int
    cells: tuple[LoadCell, ...]

    @property
    def overloaded(self) -> tuple[LoadCell, ...]:
        return tuple(cell for cell in self.cells if cell.over)


@dataclass(frozen=True)
class TeamRow:
    id: int
    key: str
    name: str
    capacity: int | None


@dataclass(frozen=True)
class LoadView:
    generated_at: datetime
    weeks: tuple[date, ...]
    teams: tuple[TeamLoad, ...]
    default_capacity: int

    @property
    def overloaded(self) -> list[tuple[TeamLoad, LoadCell]]:
        """Every overloaded team-week, by week then team."""
        found = [(team, cell) for team in self.teams for cell in team.overloaded]
        return sorted(found, key=lambda pair: (pair[1].week, pair[0].team))


def load_grid(
    *, teams: Sequence[TeamRow], counts: Mapping[int, Sequence[int]], weeks: Sequence[date], default_capacity: int
) -> tuple[TeamLoad, ...]:
    """Teams x weeks from counted items: ``counts[team id]`` is [overdue, week 1, week 2, ...]."""
    grid = []
    for team in teams:
        overdue, *per_week = counts.get(team.id) or [0] * (len(weeks) + 1)
        capacity = team.capacity if team.capacity is not None else default_capacity
        cells = tuple(LoadCell(week, items, capacity) for week, items in zip(weeks, per_week, strict=True))
        grid.append(TeamLoad(team.key, team.name, capacity, team.capacity is not None, overdue, cells))
    return tuple(grid)


def _open_of_planned_launches() -> list[ColumnElement[bool] | TextClause]:
    """Open, dated items of draft and active launches, with checklistitem the one table in scope:
    ``OPEN_ITEM`` word for word (SQLite uses a partial index only then) and the launches as a
    subquery, so the counts come from ix_checklistitem_open_team_due alone."""
    return [
        text(OPEN_ITEM),
        col(ChecklistItem.due_at).is_not(None),
        col(ChecklistItem.launch_id).in_(select_columns(col(Launch.id)).where(planned())),
    ]


def _count(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """One team's open items under ``conditions``: a range count on the partial index."""
    return (
        select_columns(func.count())
        .select_from(ChecklistItem)
        .where(col(ChecklistItem.owner_team_id) == col(Team.id), *_open_of_planned_launches(), *conditions)
        .correlate(Team)
        .scalar_subquery()
    )


def gtm_load(*, session: Session, now: datetime, weeks: int = DEFAULT_WEEKS) -> LoadView:
    """Every team's open items per week for ``weeks`` weeks from this one, in one statement: per
    team, a count of its overdue items and one per week, each a range on the partial index (a
    CASE per week over every open item, grouped by team, took four times as long at 200 launches)."""
    check_weeks(weeks)
    first = week_of(now)
    days = [first + timedelta(weeks=index) for index in range(weeks + 1)]
    bounds = [_midnight(day) for day in days]
    due = col(ChecklistItem.due_at)
    counts = [_count(due < bounds[0])] + [_count(due >= start, due < end) for start, end in pairwise(bounds)]
    statement = select_columns(
        col(Team.id), col(Team.key), col(Team.name), col(Team.capacity_per_week), *counts
    ).order_by(col(Team.name))
    teams, tallies = [], {}
    for team_id, key, name, capacity, *values in session.execute(statement):
        teams.append(TeamRow(team_id, key, name, capacity))
        tallies[team_id] = [int(value) for value in values]
    default = get_settings().team_capacity_per_week
    grid = load_grid(teams=teams, counts=tallies, weeks=days[:-1], default_capacity=default)
    return LoadView(generated_at=now, weeks=tuple(days[:-1]), teams=grid, default_capacity=default)


@dataclass(frozen=True)
class LoadItem:
    id: int
    launch: str
    launch_name: str
    region: str
    phase: Phase
    key: str
    title: str
    due_at: datetime
    status: ItemStatus
    blocking: bool
    assignee: str | None


@dataclass(frozen=True)
class TeamWeek:
    team: str
    name: str
    capacity: int
    week: date | None  # None: the items due before this week (overdue)
    total: int
    items: tuple[LoadItem, ...]  # soonest due first, at most ITEMS_SHOWN

    @property
    def label(self) -> str:
        return "overdue (due before this week)" if self.week is None else f"week of {self.week:%Y-%m-%d}"

    @property
    def over(self) -> bool:
        return self.week is not None and self.total > self.capacity


def team_week_items(*, session: Session, team: str, week: date | None, now: datetime) -> TeamWeek:
    """The open items of planned launches ``team`` owes in the week starting ``week`` (a Monday),
    or, with None, those due before this week."""
    found = (
        session.execute(
            select_columns(col(Team.id), col(Team.name), col(Team.capacity_per_week)).where(col(Team.key) == team)
        ).first()
        if re.fullmatch(KEY_PATTERN, team)
        else None
    )
    if found is None:
        known = ", ".join(session.execute(select_columns(col(Team.key)).order_by(col(Team.key))).scalars()) or "none"
        raise NotFound("team", team[:40], hint=f"known teams: {known}")
    team_id, name, capacity = found
    due = col(ChecklistItem.due_at)
    span = (
        [due < _midnight(week_of(now))]
        if week is None
        else [due >= _midnight(week), due < _midnight(week + timedelta(weeks=1))]
    )
    where = [*_open_of_planned_launches(), col(ChecklistItem.owner_team_id) == team_id, *span]
    total = session.execute(select_columns(func.count()).select_from(ChecklistItem).where(*where)).scalar_one()
    rows = session.execute(
        select_columns(
            col(ChecklistItem.id),
            col(Launch.slug),
            col(Launch.name),
            col(Region.code),
            col(ChecklistItem.phase),
            col(ChecklistItem.key),
            col(ChecklistItem.title),
            type_coerce(due, String),
            col(ChecklistItem.status),
            col(ChecklistItem.blocking),
            col(Member.name),
        )
        .select_from(ChecklistItem)
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .outerjoin(Member, col(Member.id) == col(ChecklistItem.assignee_id))
        .where(col(ChecklistItem.id).in_(select_columns(col(ChecklistItem.id)).where(*where)))
        .order_by(due, col(Launch.slug), col(ChecklistItem.id))
        .limit(ITEMS_SHOWN)
    ).all()
    items = tuple(
        LoadItem(item_id, slug, launch_name, code, phase, key, title, read_when(due_text), status, blocking, assignee)
        for item_id, slug, launch_name, code, phase, key, title, due_text, status, blocking, assignee in rows
    )
    default = get_settings().team_capacity_per_week
    return TeamWeek(team, name, capacity or default, week, int(total), items)
