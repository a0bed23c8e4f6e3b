"""Which transport delivers: real Slack when a bot token and signing secret are set, otherwise the
console, so the embedded default works with no Slack at all."""

from sqlalchemy import Engine

from notifications.delivery.console_store import ConsoleStore
from notifications.delivery.console_transport import ConsoleTransport
from notifications.delivery.slack_transport import SlackTransport
from notifications.delivery.transport import Transport
from orchestrator.core.settings import Settings


def uses_console(settings: Settings) -> bool:
    """True when messages go to the console (the log and the dashboard's messages page)."""
    return settings.slack_bot_token is None or settings.slack_signing_secret is None


def transport_from_settings(settings: Settings, *, engine: Engine | None = None) -> Transport:
    """The transport for these settings; with an ``engine`` the console also keeps what it shows
    in the database, for the dashboard (which runs in another process)."""
    if not uses_console(settings):
        return SlackTransport.from_settings(settings)
    return ConsoleTransport(store=ConsoleStore(engine) if engine is not None else None)
