"""People signed in as themselves (not with an API token): the member behind a Slack sign-in, as
the same ``Principal`` a token gives, so every door decides with one policy.

A member's session names the member, not a copy of their role: every page reads the row again
(``principal_for_member``), so removing a member or changing their role takes effect on their
next page. Who a Slack identity is: the member linked to that Slack user id, else the member with
that email when Slack says the email is verified.
"""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from orchestrator.core.enums import Role
from orchestrator.core.errors import Unauthenticated
from orchestrator.core.models import Member
from orchestrator.directory.tokens import Principal

KEEPERS = (Role.ADMIN, Role.PRODOPS)  # who adds people to the directory (named to those it lacks)


@dataclass(frozen=True)
class SlackIdentity:
    """What Slack's OpenID Connect says about the person who signed in."""

    slack_user_id: str
    team_id: str | None
    email: str | None
    email_verified: bool
    name: str | None


def member_principal(member: Member) -> Principal:
    assert member.id is not None
    return Principal(token_id=None, name=member.email, role=member.role, team_id=member.team_id, member_id=member.id)


def principal_for_member(*, session: Session, member_id: int) -> Principal:
    """The principal of a member signed in earlier (the dashboard cookie names them by id), read
    afresh: a removed member is Unauthenticated, a changed role is the new role."""
    member = session.get(Member, member_id, populate_existing=True)
    session.commit()
    if member is None:
        raise Unauthenticated("you are no longer in launchdeck's directory; ask product ops to add you again")
    return member_principal(member)


def member_for_identity(*, session: Session, identity: SlackIdentity) -> Member | None:
    """The directory's member for a Slack identity: by Slack user id, else by verified email."""
    member = session.exec(select(Member).where(Member.slack_user_id == identity.slack_user_id)).first()
    if member is None and identity.email and identity.email_verified:
        email = identity.email.strip().lower()
        member = session.exec(select(Member).where(func.lower(col(Member.email)) == email)).first()
    session.commit()
    return member


def directory_keepers(*, session: Session, limit: int = 3) -> list[Member]:
    """Admins and product ops, to name to someone the directory does not know (admins first)."""
    members = list(
        session.exec(select(Member).where(col(Member.role).in_(KEEPERS)).order_by(col(Member.email)).limit(20)).all()
    )
    session.commit()
    return sorted(members, key=lambda member: (member.role != Role.ADMIN, member.email))[:limit]
