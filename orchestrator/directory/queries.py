"""The directory, read: teams, regions (with their parent's code and timezone) and members."""

from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from orchestrator.core.errors import NotFound
from orchestrator.core.models import Member, Region, RegionRollout, Team


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


def region_timezones(*, session: Session) -> dict[str, str]:
    """Each region's IANA timezone by code: what a plain date typed for a region means
    (``clock.region_moment``)."""
    return {code: timezone for code, timezone in session.exec(select(Region.code, Region.timezone)).all()}


def rollout_timezone(*, session: Session, rollout_id: int) -> str:
    """The timezone of a launch's region: the one its plain dates (a phase date, a waiver's
    expiry, a No-Go's re-evaluation) are read in."""
    found = session.exec(
        select(Region.timezone)
        .join(RegionRollout, col(RegionRollout.region_id) == col(Region.id))
        .where(RegionRollout.id == rollout_id)
    ).first()
    if found is None:
        raise NotFound("region rollout", rollout_id)
    return found
