"""The directory, read: teams, regions (with their parent's code) and members."""

from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from orchestrator.core.errors import NotFound
from orchestrator.core.models import Member, Region, Team


@dataclass(frozen=True)
class MemberView:
    member: Member
    team: str | None


def list_teams(*, session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.key))).all())


def list_regions(*, session: Session) -> list[tuple[Region, str | None]]:
    """Regions in rollout order, each with its parent's code (one statement, self-join)."""
    parent = aliased(Region)
    rows = session.exec(
        select(Region, parent.code)
        .outerjoin(parent, col(parent.id) == col(Region.parent_id))
        .order_by(col(Region.rollout_order), col(Region.code))
    ).all()
    return [(region, code) for region, code in rows]


def list_members(*, session: Session) -> list[MemberView]:
    rows = session.exec(
        select(Member, Team.key).outerjoin(Team, col(Team.id) == col(Member.team_id)).order_by(col(Member.email))
    ).all()
    return [MemberView(member, key) for member, key in rows]


def member_id_for(*, session: Session, email: str) -> int:
    """The member whose email is ``email`` (as people name them at a terminal); NotFound otherwise."""
    found = session.exec(select(Member.id).where(Member.email == email.strip())).first()
    if found is None:
        raise NotFound("member", email, hint="members are listed in the directory seed (launchdeck init)")
    return found
