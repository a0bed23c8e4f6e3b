"""Read models of checklist items: a launch's items with filters, one item, and an item's owner
(the names a change's answer shows)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, not_, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import SATISFYING_STATUSES, ItemStatus, LaunchStatus, Phase
from orchestrator.core.errors import NotFound
from orchestrator.core.models import ChecklistItem, Launch, Member, Region, RegionRollout, Team


@dataclass(frozen=True)
class ItemView:
    """A checklist item with the names the API shows instead of ids (region code, team key)."""

    item: ChecklistItem
    region: str
    owner_team: str
    overdue: bool


@dataclass(frozen=True)
class ItemFilters:
    """What a caller may narrow an item listing by; None means "any"."""

    region: str | None = None
    phase: Phase | None = None
    team: str | None = None
    status: ItemStatus | None = None
    open: bool | None = None  # True: not done, waived or n/a; False: one of those
    overdue: bool | None = None
    blocking: bool | None = None
    assignee_id: int | None = None


def _is_overdue(item: ChecklistItem, now: datetime) -> bool:
    return item.due_at is not None and as_utc(item.due_at) < now and item.status not in SATISFYING_STATUSES


def _overdue_clause(now: datetime) -> ColumnElement[bool]:
    """The SQL twin of ``_is_overdue``: past due and not done, waived or n/a."""
    return and_(
        col(ChecklistItem.due_at).is_not(None),
        col(ChecklistItem.due_at) < now,
        col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
    )


def list_items(
    *, session: Session, launch_id: int, filters: ItemFilters, limit: int, offset: int, now: datetime | None = None
) -> tuple[list[ItemView], int]:
    """One page of a launch's items and how many match, in two statements.

    Ordered by region rollout order, phase, due date (undated last) and id, so pages are stable.
    """
    now = now or utcnow()
    conditions: list[ColumnElement[bool]] = [col(ChecklistItem.launch_id) == launch_id]
    if filters.region is not None:
        conditions.append(col(Region.code) == filters.region)
    if filters.phase is not None:
        conditions.append(col(ChecklistItem.phase) == filters.phase)
    if filters.team is not None:
        conditions.append(col(Team.key) == filters.team)
    if filters.status is not None:
        conditions.append(col(ChecklistItem.status) == filters.status)
    if filters.open is not None:
        satisfied = col(ChecklistItem.status).in_(SATISFYING_STATUSES)
        conditions.append(not_(satisfied) if filters.open else satisfied)
    if filters.overdue is not None:
        overdue = _overdue_clause(now)
        conditions.append(overdue if filters.overdue else not_(overdue))
    if filters.blocking is not None:
        conditions.append(col(ChecklistItem.blocking).is_(filters.blocking))
    if filters.assignee_id is not None:
        conditions.append(col(ChecklistItem.assignee_id) == filters.assignee_id)

    def joined(statement: Any) -> Any:
        return (
            statement.join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
            .where(*conditions)
        )

    total = int(session.exec(joined(select(func.count()).select_from(ChecklistItem))).one())
    phase_rank = case({phase.value: index for index, phase in enumerate(Phase.ordered())}, value=ChecklistItem.phase)
    rows = session.exec(
        joined(select(ChecklistItem, Region.code, Team.key))
        .order_by(
            col(Region.rollout_order),
            col(Region.code),
            phase_rank,
            col(ChecklistItem.due_at).is_(None),
            col(ChecklistItem.due_at),
            col(ChecklistItem.id),
        )
        .limit(limit)
        .offset(offset)
        .execution_options(populate_existing=True)
    ).all()
    return [ItemView(item, code, team, _is_overdue(item, now)) for item, code, team in rows], total


def item_view(*, session: Session, item_id: int, now: datetime | None = None) -> ItemView:
    """One item as the API shows it, read fresh (a service in this session may just have changed it)."""
    row = session.exec(
        select(ChecklistItem, Region.code, Team.key)
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(ChecklistItem.id == item_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("checklist item", item_id)
    item, code, team = row
    return ItemView(item, code, team, _is_overdue(item, now or utcnow()))


@dataclass(frozen=True)
class ItemOwner:
    """What a change request needs to know of an item before the change: its owning team (a
    member may change only its own team's items) and the names the answer shows, which no
    change alters. Columns only, so the service's locked read is the one that loads the row."""

    key: str
    owner_team_id: int
    owner_team: str
    region: str


_ITEM_OWNER = (
    select_columns(col(ChecklistItem.key), col(ChecklistItem.owner_team_id), col(Team.key), col(Region.code))
    .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
    .join(Region, col(Region.id) == col(RegionRollout.region_id))
    .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
    .where(col(ChecklistItem.id) == bindparam("item_id"))
)


def item_owner(*, session: Session, item_id: int) -> ItemOwner:
    # Core, on the session's connection: a columns-only read needs no ORM execution context.
    row = session.connection().execute(_ITEM_OWNER, {"item_id": item_id}).first()
    if row is None:
        raise NotFound("checklist item", item_id)
    key, owner_team_id, owner_team, region = row
    return ItemOwner(key=key, owner_team_id=owner_team_id, owner_team=owner_team, region=region)


def _open_items_clause(member: Member) -> list[ColumnElement[bool]]:
    """Open items assigned to the member or owned by their team, in draft or active launches."""
    mine = [col(ChecklistItem.assignee_id) == member.id]
    if member.team_id is not None:
        mine.append(col(ChecklistItem.owner_team_id) == member.team_id)
    return [
        or_(*mine),
        col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
        col(Launch.status).in_([LaunchStatus.DRAFT, LaunchStatus.ACTIVE]),
    ]


def open_items_of(*, session: Session, member: Member, limit: int) -> Sequence[tuple[ChecklistItem, str, str]]:
    """(item, launch slug, region code) of the open items assigned to the member or owned by their
    team, in draft or active launches, soonest due first (undated last): ``/launch mine`` and the
    App Home."""
    return session.exec(
        select(ChecklistItem, Launch.slug, Region.code)
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(*_open_items_clause(member))
        .order_by(col(ChecklistItem.due_at).is_(None), col(ChecklistItem.due_at), col(ChecklistItem.id))
        .limit(limit)
    ).all()


def count_open_items_of(*, session: Session, member: Member) -> int:
    """How many ``open_items_of`` there are in all (for "and N more")."""
    return session.exec(
        select(func.count())
        .select_from(ChecklistItem)
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .where(*_open_items_clause(member))
    ).one()
