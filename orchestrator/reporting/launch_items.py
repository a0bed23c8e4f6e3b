"""A launch's checklist items as the launch page reads them (one row per item, with its names),
and what the page derives from them alone: readiness per team and the blockers to ask about."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, ItemStatus, Phase
from orchestrator.core.models import ChecklistItem, Member, Region, RegionRollout, Team
from orchestrator.reporting.rag import RagRules

_ORDER = {phase: index for index, phase in enumerate(Phase.ordered())}


@dataclass(frozen=True)
class ItemRow:
    """One checklist item with the names a reader needs (region, team, assignee)."""

    id: int
    region: str
    phase: Phase
    key: str
    title: str
    team: str
    team_name: str
    assignee: str | None
    blocking: bool
    status: ItemStatus
    due_at: datetime | None
    evidence_url: str | None
    blocked_reason: str | None
    checked_by: str | None
    checked_at: datetime | None

    def is_open(self) -> bool:
        return self.status not in SATISFYING_STATUSES

    def days_late(self, now: datetime) -> int | None:
        """Whole days past due for an open item (0 on the day it fell due), None when not late."""
        if not self.is_open() or self.due_at is None or self.due_at >= now:
            return None
        return int((now - self.due_at) / timedelta(days=1))


@dataclass(frozen=True)
class TeamRow:
    team: str
    team_name: str
    blocking_done: int
    blocking_total: int
    done: int
    total: int
    overdue: int

    @property
    def blocking_percent(self) -> int:
        return round(100 * self.blocking_done / self.blocking_total) if self.blocking_total else 100

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100


@dataclass(frozen=True)
class Blocker:
    item: ItemRow
    why: str  # "overdue 3 days", "blocked: waiting on legal", "due in 2 days"
    days_late: int | None


def launch_items(*, session: Session, launch_id: int) -> list[ItemRow]:
    """Every item of a launch with region, team and assignee names, in one statement; ordered by
    region rollout order, phase, due date (undated last) and id."""
    rows = session.execute(
        select_columns(
            col(ChecklistItem.id),
            col(Region.code),
            col(ChecklistItem.phase),
            col(ChecklistItem.key),
            col(ChecklistItem.title),
            col(Team.key),
            col(Team.name),
            col(Member.email),
            col(ChecklistItem.blocking),
            col(ChecklistItem.status),
            col(ChecklistItem.due_at),
            col(ChecklistItem.evidence_url),
            col(ChecklistItem.blocked_reason),
            col(ChecklistItem.checked_by),
            col(ChecklistItem.checked_at),
            col(Region.rollout_order),
        )
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .outerjoin(Member, col(Member.id) == col(ChecklistItem.assignee_id))
        .where(col(ChecklistItem.launch_id) == launch_id)
    ).all()
    items = [
        ItemRow(
            id=row[0],
            region=row[1],
            phase=row[2],  # already the enum (EnumText): no per-row conversion
            key=row[3],
            title=row[4],
            team=row[5],
            team_name=row[6],
            assignee=row[7],
            blocking=bool(row[8]),
            status=row[9],
            due_at=as_utc(row[10]) if row[10] is not None else None,
            evidence_url=row[11],
            blocked_reason=row[12],
            checked_by=row[13],
            checked_at=as_utc(row[14]) if row[14] is not None else None,
        )
        for row in rows
    ]
    order = {row[1]: (row[15], row[1]) for row in rows}
    far = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda item: (order[item.region], _ORDER[item.phase], item.due_at or far, item.id))
    return items


def team_rows(items: Sequence[ItemRow], now: datetime) -> tuple[TeamRow, ...]:
    """Each owning team's done/total counts (blocking and all) and its overdue items, by team key."""
    tallies: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for item in items:
        tally = tallies.setdefault(item.team, [0, 0, 0, 0, 0])
        names[item.team] = item.team_name
        done = not item.is_open()
        tally[0] += int(item.blocking and done)
        tally[1] += int(item.blocking)
        tally[2] += int(done)
        tally[3] += 1
        tally[4] += int(item.days_late(now) is not None)
    return tuple(TeamRow(team, names[team], *tally) for team, tally in sorted(tallies.items()))


def blockers(items: Sequence[ItemRow], now: datetime, rules: RagRules) -> tuple[Blocker, ...]:
    """Open blocking items that are late, marked blocked or due within the amber window, latest
    first: what leadership should ask about."""
    found = []
    for item in items:
        if not (item.blocking and item.is_open()):
            continue
        late = item.days_late(now)
        if item.status == ItemStatus.BLOCKED:
            why = "blocked" + (f": {item.blocked_reason}" if item.blocked_reason else "")
            if late is not None:
                why += f" (overdue {_days(late)})"
        elif late is not None:
            why = f"overdue {_days(late)}"
        elif item.due_at is not None and item.due_at <= now + rules.due_soon:
            why = f"due {item.due_at:%Y-%m-%d %H:%M} UTC"
        else:
            continue
        found.append(Blocker(item=item, why=why, days_late=late))
    found.sort(key=lambda blocker: (-(blocker.days_late if blocker.days_late is not None else -1), blocker.item.id))
    return tuple(found)


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"
