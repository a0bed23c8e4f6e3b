"""The Slack calls made after a request was answered: opening a modal (``views.open``) and posting
an ephemeral follow-up to an interaction's ``response_url``. Protocols, so the HTTP layer and the
tests can swap the adapters, and the adapters chosen from the settings.
"""

import logging
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from slack_sdk.webhook import WebhookClient

from notifications.inbound.replies import DirectMessage, Reply
from orchestrator.core.settings import Settings

log = logging.getLogger(__name__)


@runtime_checkable
class ViewOpener(Protocol):
    """Opens a modal (``views.open``). Needs Slack's Web API and a ``trigger_id`` that expires
    three seconds after the click, so it runs after the HTTP answer, never inside a transaction."""

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None: ...


@runtime_checkable
class Responder(Protocol):
    """Posts an ephemeral follow-up to an interaction's ``response_url``: Slack ignores the HTTP
    answer's body for button clicks, so this is how a refusal reaches the person who clicked."""

    def respond(self, *, response_url: str, text: str) -> None: ...


class UnwiredViewOpener:
    """Used when no Slack Web API transport offers ``open_view``: says so in the log, loudly once
    per modal, rather than failing the click (the user sees no modal and can retry later)."""

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        log.warning(
            "cannot open modal %s: no Slack Web API transport with open_view is configured "
            "(set LAUNCHDECK_SLACK_BOT_TOKEN)",
            view.get("callback_id"),
        )


class WebhookResponder:
    """``Responder`` over slack_sdk's ``WebhookClient`` (response_url needs no token)."""

    def __init__(self, *, timeout: int = 5) -> None:
        self.timeout = timeout

    def respond(self, *, response_url: str, text: str) -> None:
        if not response_url.startswith("https://"):
            log.warning("not answering to a non-https response_url")
            return
        WebhookClient(response_url, timeout=self.timeout).send(
            text=text, response_type="ephemeral", replace_original=False
        )


def view_opener_from_settings(settings: Settings) -> ViewOpener:
    """The Slack transport when a bot token is set and it can open views; otherwise a logger."""
    if settings.slack_bot_token is not None:
        from notifications.delivery.slack_transport import SlackTransport

        transport = SlackTransport.from_settings(settings)
        if isinstance(transport, ViewOpener):
            return transport
    return UnwiredViewOpener()


def run_quietly(action: Callable[[], None], *, what: str) -> None:
    """Run a Slack call after the answer was sent: nobody is left to tell but the log."""
    try:
        action()
    except Exception:  # a failed follow-up must never take down the worker thread
        log.exception("Slack follow-up failed: %s", what)


def follow_up_calls(reply: Reply, *, opener: ViewOpener, responder: Responder) -> list[Callable[[], None]]:
    """The Slack calls a decided ``Reply`` needs, the modal first (its trigger_id expires three
    seconds after the click), each wrapped so a failure is only logged."""
    calls: list[Callable[[], None]] = []
    if reply.view is not None:
        pending = reply.view
        what = f"views.open {pending.view.get('callback_id')}"
        calls.append(
            lambda: run_quietly(lambda: opener.open_view(trigger_id=pending.trigger_id, view=pending.view), what=what)
        )
    if reply.text is not None and reply.response_url:
        url, text = reply.response_url, reply.text
        calls.append(lambda: run_quietly(lambda: responder.respond(response_url=url, text=text), what="response_url"))
    return calls


@runtime_checkable
class DirectMessenger(Protocol):
    """Opens a person's DM with the app and posts to it (the Slack transport does both)."""

    def open_dm(self, *, user_id: str) -> str: ...

    def post(self, *, channel: str, text: str, blocks: list[dict[str, Any]]) -> Any: ...


def send_direct(messenger: DirectMessenger | None, message: DirectMessage) -> None:
    """Post a reply's DM; without a Slack transport there is nobody to send it to but the log
    (the text is not logged: it may hold a sign-in link)."""
    if messenger is None:
        log.warning("cannot DM Slack user %s: no Slack transport (set LAUNCHDECK_SLACK_BOT_TOKEN)", message.user_id)
        return
    channel = messenger.open_dm(user_id=message.user_id)
    messenger.post(channel=channel, text=message.text, blocks=message.blocks)


def messenger_from_settings(settings: Settings) -> DirectMessenger | None:
    """The Slack transport when a bot token is set (never the console: a DM may hold a secret)."""
    if settings.slack_bot_token is None:
        return None
    from notifications.delivery.slack_transport import SlackTransport

    return SlackTransport.from_settings(settings)
