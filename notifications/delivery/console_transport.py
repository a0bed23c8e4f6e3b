"""A transport for running without Slack: messages go to the log, to the database and stay in memory.

The embedded default (no bot token configured) must still work end to end: the Outbox delivery
(``slack_delivery``) delivers, refs get stored, check-offs update messages in place. This
transport makes that path real and visible: each message rendered as readable lines in the
worker's log ("launchdeck.console"), a copy in the database (``ConsoleStore``) for the dashboard's
messages page, which runs in the API process, and the last messages kept in memory for tests.
"""

import itertools
import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications.delivery.block_text import plain_message
from notifications.delivery.console_store import ConsoleStore
from notifications.delivery.transport import DeliveryMarker, MessageRef


@dataclass(frozen=True, slots=True)
class KeptMessage:
    """One message as last delivered; ``updates`` counts in-place edits since it was posted."""

    ref: MessageRef
    text: str
    blocks: list[dict[str, Any]]
    updates: int = 0
    marker: DeliveryMarker | None = None


class ConsoleTransport:
    """``Transport`` that logs and remembers instead of calling Slack.

    Refs are synthetic (``console.<run>.000001``, increasing within a run): the random run id
    keeps them unique across restarts and between workers, because they are stored (the Outbox
    delivery's ``SlackMessage`` rows, the ``store``) and a ref reused by a later run would make its
    new message overwrite the record of an old one.
    """

    name = "console"

    def __init__(
        self, log: logging.Logger | None = None, *, keep: int = 200, store: ConsoleStore | None = None
    ) -> None:
        self._log = log if log is not None else logging.getLogger("launchdeck.console")
        self._keep = keep
        self._store = store
        self._run = secrets.token_hex(5)
        self._counter = itertools.count(1)
        self._messages: OrderedDict[MessageRef, KeptMessage] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def messages(self) -> list[KeptMessage]:
        """The kept messages, oldest first (an updated message keeps its place, like in Slack)."""
        with self._lock:
            return list(self._messages.values())

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], marker: DeliveryMarker | None = None
    ) -> MessageRef:
        """Log the message and return the next synthetic ref."""
        with self._lock:
            ref = MessageRef(channel=channel, ts=f"console.{self._run}.{next(self._counter):06d}")
            self._remember(KeptMessage(ref=ref, text=text, blocks=list(blocks), marker=marker))
        self._log.info("post to %s (%s):\n%s", channel, ref.ts, render(text, blocks))
        if self._store is not None:
            self._store.posted(channel=channel, ts=ref.ts, text=text, blocks=blocks)
        return ref

    def update(self, *, ref: MessageRef, text: str, blocks: list[dict[str, Any]]) -> MessageRef:
        """Replace the kept message in place; an evicted or unknown ref is simply kept anew."""
        with self._lock:
            previous = self._messages.get(ref)
            updates = previous.updates + 1 if previous is not None else 1
            marker = previous.marker if previous is not None else None
            self._remember(KeptMessage(ref=ref, text=text, blocks=list(blocks), updates=updates, marker=marker))
        self._log.info("update in %s (%s):\n%s", ref.channel, ref.ts, render(text, blocks))
        if self._store is not None:
            self._store.updated(channel=ref.channel, ts=ref.ts, text=text, blocks=blocks)
        return ref

    def find_posted(self, *, channel: str, marker: DeliveryMarker, since: datetime) -> MessageRef | None:
        """A kept message with this marker (``since`` does not matter: refs live only in this process)."""
        with self._lock:
            for message in self._messages.values():
                if message.ref.channel == channel and message.marker == marker:
                    return message.ref
        return None

    def publish_view(self, *, user_id: str, view: dict[str, Any]) -> None:
        """Log a person's App Home and keep its latest version (one row per person) for the dashboard."""
        blocks = list(view.get("blocks") or [])
        text = f"App Home of {user_id}"
        self._log.info("home of %s:\n%s", user_id, render(text, blocks))
        if self._store is not None:
            self._store.updated(channel=f"home:{user_id}", ts="home", text=text, blocks=blocks)

    def open_dm(self, *, user_id: str) -> str:
        """A readable pseudo channel id, so logs show who a DM was for."""
        return f"dm:{user_id}"

    def _remember(self, message: KeptMessage) -> None:
        self._messages[message.ref] = message
        while len(self._messages) > self._keep:
            self._messages.popitem(last=False)


def render(text: str, blocks: list[dict[str, Any]]) -> str:
    """The message as a person would read it in Slack, one indented line per visible line."""
    return "\n".join(f"    {line}".rstrip() for line in plain_message(text, blocks))
