"""A transport for running without Slack: messages go to the log and stay in memory.

The embedded default (no bot token configured) must still work end to end: the Outbox delivery
(``slack_delivery``) delivers, refs get stored, check-offs update messages in place. This
transport makes that path real and visible: a readable rendering in the log for the person at the terminal, and the last
messages kept for the dashboard and for tests to assert on.
"""

import itertools
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications.delivery.transport import DeliveryMarker, MessageRef

_MAX_LINE = 160


@dataclass(frozen=True, slots=True)
class ConsoleMessage:
    """One message as last delivered; ``updates`` counts in-place edits since it was posted."""

    ref: MessageRef
    text: str
    blocks: list[dict[str, Any]]
    updates: int = 0
    marker: DeliveryMarker | None = None


class ConsoleTransport:
    """``Transport`` that logs and remembers instead of calling Slack.

    Refs are synthetic (``console.000001``, increasing) and only meaningful within this process:
    after a restart the counter starts again, so refs stored by an earlier run may name a new
    message. That is harmless here because nothing leaves the process.
    """

    name = "console"

    def __init__(self, log: logging.Logger | None = None, *, keep: int = 200) -> None:
        self._log = log if log is not None else logging.getLogger("launchdeck.console")
        self._keep = keep
        self._counter = itertools.count(1)
        self._messages: OrderedDict[MessageRef, ConsoleMessage] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def messages(self) -> list[ConsoleMessage]:
        """The kept messages, oldest first (an updated message keeps its place, like in Slack)."""
        with self._lock:
            return list(self._messages.values())

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], marker: DeliveryMarker | None = None
    ) -> MessageRef:
        """Log the message and return the next synthetic ref."""
        with self._lock:
            ref = MessageRef(channel=channel, ts=f"console.{next(self._counter):06d}")
            self._remember(ConsoleMessage(ref=ref, text=text, blocks=list(blocks), marker=marker))
        self._log.info("post to %s (%s):\n%s", channel, ref.ts, render(text, blocks))
        return ref

    def update(self, *, ref: MessageRef, text: str, blocks: list[dict[str, Any]]) -> MessageRef:
        """Replace the kept message in place; an evicted or unknown ref is simply kept anew."""
        with self._lock:
            previous = self._messages.get(ref)
            updates = previous.updates + 1 if previous is not None else 1
            marker = previous.marker if previous is not None else None
            self._remember(ConsoleMessage(ref=ref, text=text, blocks=list(blocks), updates=updates, marker=marker))
        self._log.info("update %s (%s):\n%s", ref.channel, ref.ts, render(text, blocks))
        return ref

    def find_posted(self, *, channel: str, marker: DeliveryMarker, since: datetime) -> MessageRef | None:
        """A kept message with this marker (``since`` does not matter: refs live only in this process)."""
        with self._lock:
            for message in self._messages.values():
                if message.ref.channel == channel and message.marker == marker:
                    return message.ref
        return None

    def open_dm(self, *, user_id: str) -> str:
        """A readable pseudo channel id, so logs show who a DM was for."""
        return f"dm:{user_id}"

    def _remember(self, message: ConsoleMessage) -> None:
        self._messages[message.ref] = message
        while len(self._messages) > self._keep:
            self._messages.popitem(last=False)


def render(text: str, blocks: list[dict[str, Any]]) -> str:
    """Fallback text, then one short line per block: enough to see what Slack would show."""
    lines = [f"  {_clip(text)}"]
    lines.extend(f"  [{block.get('type', '?')}] {_clip(_describe(block))}".rstrip() for block in blocks)
    return "\n".join(lines)


def _describe(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind in {"section", "header"}:
        parts = [_text_of(block.get("text"))]
        parts.extend(_text_of(field) for field in block.get("fields") or [])
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            parts.append(f"<{_element(accessory)}>")
        return " | ".join(part for part in parts if part)
    if kind in {"actions", "context"}:
        return " | ".join(
            _element(element) if element.get("type") not in {"mrkdwn", "plain_text"} else _text_of(element)
            for element in block.get("elements") or []
        )
    if kind == "image":
        return str(block.get("alt_text", ""))
    return ""


def _element(element: dict[str, Any]) -> str:
    label = _text_of(element.get("text") or element.get("placeholder"))
    kind = str(element.get("type", "?"))
    if kind == "overflow":
        return "overflow: " + ", ".join(_text_of(option.get("text")) for option in element.get("options") or [])
    return f"{kind}: {label}" if label else kind


def _text_of(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return "" if value is None else str(value)


def _clip(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= _MAX_LINE else flat[: _MAX_LINE - 1] + "…"
