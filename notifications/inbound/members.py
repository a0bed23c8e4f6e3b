"""Who is acting: the Slack user behind a request, as the launchdeck member (by ``slack_user_id``)
and as the ``Actor`` the services see. Their role and team decide, through the access policy in
``orchestrator.core.policy``, what they may change: the same rule as the API's.
"""

from sqlmodel import Session, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Source
from orchestrator.core.errors import LaunchdeckError
from orchestrator.core.models import Member


class Refused(LaunchdeckError):
    """The Slack user may not do this (unknown to launchdeck, or not in the item's owner team)."""

    code = "slack_refused"


def member_for(session: Session, slack_user_id: str) -> Member:
    """The member linked to a Slack user, or a refusal naming the id to link."""
    member = session.exec(select(Member).where(Member.slack_user_id == slack_user_id)).first()
    if member is None:
        raise Refused(
            f"launchdeck does not know Slack user <@{slack_user_id}>, so nothing was changed. "
            f"Ask product ops to add your Slack user id ({slack_user_id}) to your member record."
        )
    return member


def actor_for(member: Member) -> Actor:
    """The member as the services see them: their role and team decide, through the access policy,
    what they may change (the same rule as the API's)."""
    return Actor(name=member.email, source=Source.SLACK, member_id=member.id, role=member.role, team_id=member.team_id)
