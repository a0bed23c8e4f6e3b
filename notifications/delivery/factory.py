"""Which transport delivers: real Slack when a bot token and signing secret are set, otherwise the
console, so the embedded default works with no Slack at all."""

from notifications.delivery.console_transport import ConsoleTransport
from notifications.delivery.slack_transport import SlackTransport
from notifications.delivery.transport import Transport
from orchestrator.core.settings import Settings


def transport_from_settings(settings: Settings) -> Transport:
    if settings.slack_bot_token is not None and settings.slack_signing_secret is not None:
        return SlackTransport.from_settings(settings)
    return ConsoleTransport()
