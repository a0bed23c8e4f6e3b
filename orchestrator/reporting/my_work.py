"""What one person has to do, for the web console's My work page: their team's open items and the
ones assigned to them, soonest due (``items.queries.open_items_of``, as ``/launch mine`` and the
App Home), each saying whether the access policy lets this person change it; and, for approvers,
the votes waiting for them (``reporting.home.pending_votes``, as the App Home).

Read-only. Whether a form is shown is ``policy.may_change_item``, the rule the item services
apply themselves, so the page never offers what the service would refuse."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import ItemStatus, Phase
from orchestrator.core.errors import NotFound
from orchestrator.core.models import ChecklistItem, Gate, Launch, Member, Region, RegionRollout, Team
from orchestrator.core.policy import VOTERS, may_change_item
from orchestrator.items.queries import count_open_items_of, open_items_of
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.home import PendingVote, pending_votes

ITEMS_SHOWN = 100


@dataclass(frozen=True)
class WorkItem:
    id: int
    version: int
    key: str
    title: str
    launch_slug: str
    region: str
    phase: Phase
    status: ItemStatus
    due_at: datetime | None
    overdue: bool
    days_late: int
    blocking: bool
    owner_team: str  # the team's name
    assigned_to_me: bool
    evidence_url: str | None
    needs_evidence: bool  # evidence required and none attached yet: the check-off asks for a link
    blocked_reason: str | None
    may_change: bool


@dataclass(frozen=True)
class MyWork:
    member_name: str
    email: str
    team_name: str | None
    items: list[WorkItem]
    items_total: int
    votes: list[PendingVote] | None  # None: the person's role does not vote


def my_work(*, session: Session, actor: Actor, now: datetime, limit: int = ITEMS_SHOWN) -> MyWork:
    """The signed-in member's work; NotFound when the actor is no member (a token of a script)."""
    member = session.get(Member, actor.member_id) if actor.member_id is not None else None
    if member is None:
        raise NotFound("member", actor.name, hint="My work is a person's list: sign in with Slack")
    team = session.get(Team, member.team_id) if member.team_id is not None else None
    rows = open_items_of(session=session, member=member, limit=limit)
    teams = dict(session.exec(select(Team.id, Team.name)).all())
    items = [
        _work_item(item, slug, region, member=member, actor=actor, teams=teams, now=now) for item, slug, region in rows
    ]
    total = count_open_items_of(session=session, member=member) if len(items) >= limit else len(items)
    votes = pending_votes(session, email=member.email, now=now) if member.role in VOTERS else None
    return MyWork(
        member_name=member.name,
        email=member.email,
        team_name=team.name if team is not None else None,
        items=items,
        items_total=total,
        votes=votes,
    )


def _work_item(
    item: ChecklistItem,
    slug: str,
    region: str,
    *,
    member: Member,
    actor: Actor,
    teams: dict[int | None, str],
    now: datetime,
) -> WorkItem:
    assert item.id is not None
    due = as_utc(item.due_at) if item.due_at is not None else None
    overdue = due is not None and due < now
    return WorkItem(
        id=item.id,
        version=item.version,
        key=item.key,
        title=item.title,
        launch_slug=slug,
        region=region,
        phase=item.phase,
        status=item.status,
        due_at=due,
        overdue=overdue,
        days_late=(now - due).days if due is not None and overdue else 0,
        blocking=item.blocking,
        owner_team=teams.get(item.owner_team_id, "?"),
        assigned_to_me=item.assignee_id == member.id,
        evidence_url=item.evidence_url,
        needs_evidence=item.evidence_required and not item.evidence_url,
        blocked_reason=item.blocked_reason,
        may_change=may_change_item(actor, owner_team_id=item.owner_team_id),
    )


@dataclass(frozen=True)
class ChangedItem:
    """The item a form just changed, as the page after the redirect tells it."""

    title: str
    launch_slug: str
    region: str
    phase: Phase
    status: ItemStatus
    evidence_url: str | None
    blocked_reason: str | None


def changed_item(*, session: Session, item_id: int) -> ChangedItem | None:
    row = session.exec(
        select(ChecklistItem, Launch.slug, Region.code)
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(ChecklistItem.id == item_id)
    ).first()
    if row is None:
        return None
    item, slug, code = row
    return ChangedItem(item.title, slug, code, item.phase, item.status, item.evidence_url, item.blocked_reason)


def launch_region_phases(*, session: Session, slug: str) -> list[tuple[str, list[Phase]]]:
    """Each region of the launch with the phases it plans (has gates for), in rollout order: the
    choices a What is blocking page offers when asked for a region or phase there is not."""
    launch_id = launch_id_for(session=session, slug=slug)
    rows = session.exec(
        select(Region.code, Gate.phase)
        .join(RegionRollout, col(RegionRollout.region_id) == col(Region.id))
        .join(Gate, col(Gate.rollout_id) == col(RegionRollout.id))
        .where(RegionRollout.launch_id == launch_id)
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    planned: dict[str, set[Phase]] = {}
    for code, phase in rows:
        planned.setdefault(code, set()).add(Phase(phase))
    return [(code, [p for p in Phase.ordered() if p in phases]) for code, phases in planned.items()]


def gate_place(*, session: Session, gate_id: int) -> tuple[str, str, Phase]:
    """(launch slug, region code, phase) of a gate: where a vote's result is shown."""
    row = session.exec(
        select(Launch.slug, Region.code, Gate.phase)
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(Gate.id == gate_id)
    ).first()
    if row is None:
        raise NotFound("gate", gate_id)
    slug, code, phase = row
    return slug, code, Phase(phase)
