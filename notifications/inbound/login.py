"""``/launch login``: a one-time dashboard sign-in link, sent to the person in a Slack DM.

The link's secret is made here and never stored (only its hash is, in ``loginlink``), so it
does not go through the outbox (whose rows are stored in the clear and delivered later by the
worker); it is posted once, straight after the command is acknowledged, by the Slack transport
(``send_direct``). The acknowledgement says a DM is on its way, or why none can be sent.
"""

from sqlmodel import Session

from notifications.inbound.members import member_for
from notifications.inbound.replies import DirectMessage, Reply
from notifications.inbound.requests import SlashCommand
from notifications.mrkdwn import escape_mrkdwn
from orchestrator.core.clock import utcnow
from orchestrator.core.settings import get_settings
from orchestrator.directory.login_links import LINK_LIFETIME, issue_login_link

LINK_PATH = "/auth/link/"


def login_reply(session: Session, command: SlashCommand) -> Reply:
    """Make a link for the member behind the Slack user and have it DMed to them."""
    settings = get_settings()
    member = member_for(session, command.user_id)  # an unknown Slack user is refused, no link made
    if not settings.public_url:
        return Reply(
            text=":warning: launchdeck does not know its own web address (LAUNCHDECK_PUBLIC_URL), so it cannot "
            "send a sign-in link; ask your launchdeck admin to set it."
        )
    if settings.slack_bot_token is None:
        return Reply(
            text=":warning: launchdeck has no Slack bot token (LAUNCHDECK_SLACK_BOT_TOKEN), so it cannot DM you "
            "a sign-in link; ask your launchdeck admin."
        )
    secret = issue_login_link(session=session, member=member, now=utcnow())
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    url = settings.public_url.rstrip("/") + LINK_PATH + secret
    text = (
        f"Your launchdeck sign-in link, {escape_mrkdwn(member.name)}: <{url}|sign in to the dashboard>. "
        f"It works once, for {minutes} minutes. If you did not ask for it, ignore it."
    )
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    return Reply(
        text=f":email: I sent you a sign-in link in a direct message; it works once, for {minutes} minutes.",
        direct=DirectMessage(user_id=command.user_id, text=text, blocks=blocks),
    )
