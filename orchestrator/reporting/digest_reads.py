"""The leadership digest's reads: a fixed set of statements, each filtered through the launch (a
join on a condition, not a list of ids), so their number and size stay the same however many
launches the digest covers.

Plain columns, not ORM entities: nothing cached in a long-lived session can go stale, and two
hundred launches' rows cost tuples, not thousands of tracked objects.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, String, case, func, text, type_coerce
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateStatus, ItemStatus, Phase
from orchestrator.core.models import OPEN_BLOCKING_ITEM, ChecklistItem, Gate, Launch, PhaseDate, Region, RegionRollout
from orchestrator.core.sqltime import seconds_between

_DAY_SECONDS = 86400


def launch_rows(session: Session, *, which: ColumnElement[bool]) -> Sequence[Row[*tuple[Any, ...]]]:
    """The chosen launches: id, slug, name, tier, owner, exec_sponsor."""
    return session.execute(
        select_columns(
            col(Launch.id),
            col(Launch.slug),
            col(Launch.name),
            col(Launch.tier),
            col(Launch.owner),
            col(Launch.exec_sponsor),
        ).where(which)
    ).all()


def rollout_rows(session: Session, *, which: ColumnElement[bool]) -> Sequence[Row[*tuple[Any, ...]]]:
    """Every region of the chosen launches in rollout order: rollout id, launch id, state, phase,
    percent, region code, name and timezone, and the phases it skips."""
    return session.execute(
        select_columns(
            col(RegionRollout.id),
            col(RegionRollout.launch_id),
            col(RegionRollout.state),
            col(RegionRollout.phase),
            col(RegionRollout.percent),
            col(Region.code),
            col(Region.name),
            col(Region.timezone),
            col(RegionRollout.skipped_phases),
        )
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(which)
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()


class Planned(NamedTuple):
    slip_days: int  # current date minus baseline, whole days rounded (a DST hour does not count)
    current_at: datetime | str  # as read (text on SQLite); read_when() turns it into aware UTC


def planned_dates(session: Session, *, which: ColumnElement[bool]) -> dict[int, dict[Phase, Planned]]:
    """Per region, each planned phase's slip and current date. The slip comes as whole seconds
    from the database and the date as text: thousands of rows, and SQLite's datetimes would
    otherwise be parsed in Python twice per row."""
    ordered = Phase.ordered()
    dates: dict[int, dict[Phase, Planned]] = defaultdict(dict)
    for rollout_id, rank, slip_seconds, current_at in session.execute(
        select_columns(
            col(PhaseDate.rollout_id),
            phase_rank(col(PhaseDate.phase)),
            seconds_between(col(PhaseDate.current_at), col(PhaseDate.baseline_at)),
            type_coerce(col(PhaseDate.current_at), String),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(which)
    ):
        dates[rollout_id][ordered[rank]] = Planned(round(int(slip_seconds) / _DAY_SECONDS), current_at)
    return dates


def waiting_phases(session: Session, *, which: ColumnElement[bool]) -> dict[int, Phase]:
    """The earliest phase per region with a gate not yet passed, ranked in SQL: one row per region
    instead of one per gate."""
    ordered = Phase.ordered()
    return {
        rollout_id: ordered[first]
        for rollout_id, first in session.execute(
            select_columns(col(Gate.rollout_id), func.min(phase_rank(col(Gate.phase))))
            .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
            .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
            .where(which, col(Gate.status) != GateStatus.PASSED)
            .group_by(col(Gate.rollout_id))
        )
    }


@dataclass(frozen=True)
class ItemCounts:
    open_blocking: int = 0
    overdue_blocking: int = 0
    blocked: int = 0
    blocked_blocking: int = 0
    next_blocking_due_at: datetime | None = None


def item_counts(session: Session, *, which: ColumnElement[bool], now: datetime) -> dict[int, ItemCounts]:
    """Open-item counts per region: one row per region of the chosen launches, each figure a
    correlated subquery answered from an index (the open blocking items from the partial index
    ix_checklistitem_open_blocking: a count, a range count of the overdue ones and a seek for the
    next due; the few blocked items from ix_checklistitem_rollup). Grouping every open item of
    every active launch instead cost 100-150 ms at 200 launches on SQLite."""
    due = col(ChecklistItem.due_at)
    open_blocking = text(OPEN_BLOCKING_ITEM)  # word for word, or SQLite ignores the partial index
    same_region = col(ChecklistItem.rollout_id) == col(RegionRollout.id)
    blocked = [
        col(ChecklistItem.launch_id) == col(RegionRollout.launch_id),
        same_region,
        col(ChecklistItem.status) == ItemStatus.BLOCKED,
    ]

    def per_region(aggregate: Any, *conditions: Any) -> Any:
        return (
            select_columns(aggregate)
            .select_from(ChecklistItem)
            .where(same_region, *conditions)
            .correlate(RegionRollout)
            .scalar_subquery()
        )

    statement = (
        select_columns(
            col(RegionRollout.id),
            per_region(func.count(), open_blocking),
            per_region(func.count(), open_blocking, due < now),
            per_region(func.min(due), open_blocking, due >= now),
            per_region(func.count(), *blocked),
            per_region(func.count(), *blocked, col(ChecklistItem.blocking).is_(True)),
        )
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .where(which)
    )
    counts = {}
    for rollout_id, open_count, overdue, next_due, blocked_count, blocked_blocking in session.execute(statement):
        counts[rollout_id] = ItemCounts(
            open_blocking=int(open_count),
            overdue_blocking=int(overdue),
            blocked=int(blocked_count),
            blocked_blocking=int(blocked_blocking),
            next_blocking_due_at=as_utc(next_due) if next_due is not None else None,
        )
    return counts


def phase_rank(column: Any) -> Any:
    """A phase column as its position in Phase.ordered(), in SQL (an int, no enum per row)."""
    return case({phase.value: index for index, phase in enumerate(Phase.ordered())}, value=column)
