"""Publishing App Homes: one person's, when they open it (``notifications.inbound.home``), and
again for everyone whose Home shows something that changed since the last pass (the Home
refresher, ``orchestrator.core.homes``), each once a pass however many changes concern them.

The Home is read and built inside a short read, which ends before Slack is called, so no
transaction waits on the network. A failed publish is logged, not retried: the person's next
visit to the Home publishes it afresh.
"""

import logging
from datetime import datetime

from sqlmodel import Session

from notifications.delivery.transport import DeliveryFailed, ViewPublisher
from notifications.messages.home import home_view
from orchestrator.core.homes import homes_to_refresh
from orchestrator.core.settings import get_settings
from orchestrator.reporting.home import home_snapshot

log = logging.getLogger("launchdeck.notifications")


def dashboard_url() -> str | None:
    """Where the Home's "and N more" links point: the dashboard, when launchdeck's address is set."""
    public_url = get_settings().public_url
    return f"{public_url.rstrip('/')}/dashboard" if public_url else None


def build_home(session: Session, *, slack_user_id: str, now: datetime) -> dict[str, object]:
    """The Home view of one Slack user as it stands now (the read ends before this returns)."""
    try:
        snapshot = home_snapshot(session=session, slack_user_id=slack_user_id, now=now)
    finally:
        session.rollback()  # end the read: the Slack call that follows must not hold it open
    return home_view(snapshot, dashboard=dashboard_url())


def publish_home(session: Session, *, publisher: ViewPublisher, slack_user_id: str, now: datetime) -> None:
    publisher.publish_view(user_id=slack_user_id, view=build_home(session, slack_user_id=slack_user_id, now=now))


def refresh_homes(session: Session, *, publisher: ViewPublisher, now: datetime) -> int:
    """Republish the Homes that what was queued since the last pass concerns; how many went out."""
    published = 0
    for slack_user_id in homes_to_refresh(session, now=now):
        try:
            publish_home(session, publisher=publisher, slack_user_id=slack_user_id, now=now)
        except DeliveryFailed as error:
            log.warning("could not republish the App Home of %s: %s", slack_user_id, error.reason)
            continue
        published += 1
    return published
