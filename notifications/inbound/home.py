"""The App Home from the Events API: a person opened launchdeck's Home tab in Slack
(``app_home_opened`` with ``tab: "home"``), so their Home is published afresh and they are
remembered as someone whose Home is kept current (``orchestrator.core.homes``).

Slack wants the event acknowledged within three seconds, so the endpoint only parses it here and
answers; ``open_home`` runs after the answer. Other events, the Messages tab and anything a bot
sent publish nothing. The Slack user is the signed event's ``event.user``: whoever it names sees
only their own Home.
"""

import json
from dataclasses import dataclass

from sqlmodel import Session

from notifications.delivery.homes import publish_home
from notifications.delivery.transport import ViewPublisher
from notifications.inbound.parsing import MalformedPayload
from orchestrator.core.clock import utcnow
from orchestrator.core.homes import note_home_opened

HOME_TAB = "home"


@dataclass(frozen=True)
class HomeOpened:
    """A person opened the Home tab."""

    slack_user_id: str


def home_opened(body: bytes) -> HomeOpened | None:
    """The Home opening a verified Events API body reports, or None for any other event (the
    endpoint acknowledges those). An ``app_home_opened`` without a user is malformed."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedPayload("an Events API body must be JSON") from None
    event = data.get("event") if isinstance(data, dict) and data.get("type") == "event_callback" else None
    if not isinstance(event, dict) or event.get("type") != "app_home_opened":
        return None
    if event.get("bot_id") or event.get("tab") != HOME_TAB:
        return None
    user = event.get("user")
    if not isinstance(user, str) or not user.strip() or len(user) > 40:
        raise MalformedPayload("app_home_opened without the user who opened the Home")
    return HomeOpened(slack_user_id=user)


def open_home(session: Session, opened: HomeOpened, *, publisher: ViewPublisher) -> None:
    """Remember the person, then publish their Home (after the event was acknowledged)."""
    now = utcnow()
    note_home_opened(session, slack_user_id=opened.slack_user_id, now=now)
    publish_home(session, publisher=publisher, slack_user_id=opened.slack_user_id, now=now)
