"""The seam between "what to say" and "how it reaches Slack".

The Outbox delivery (``slack_delivery``) sends intents through a ``Transport`` and never touches
slack_sdk itself, so the same delivery code runs against real Slack, the console (no Slack
configured) or a fake in tests. A transport either returns a ``MessageRef`` or raises ``DeliveryFailed``: nothing else
escapes, so delivery has exactly one failure path to reason about (retry later, or park).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from orchestrator.core.errors import LaunchdeckError


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a posted message lives: what ``chat.update`` needs to change it in place later.

    ``channel`` is the channel *id* Slack answered with (not the ``#name`` we may have posted to),
    because ``chat.update`` only accepts ids. Store both fields with the Outbox row: a retried
    intent that already has a ref is updated, never posted a second time.
    """

    channel: str
    ts: str


@dataclass(frozen=True, slots=True)
class DeliveryMarker:
    """Which message part of which intent a post carries, sent along as Slack message metadata.

    ``chat.postMessage`` is not idempotent: when the answer to a post is lost (a read timeout, a
    worker killed before it stored the ts), only Slack knows whether the message exists. The marker
    lets a later attempt find that message in the channel's history and update it instead of
    posting a second copy. ``key`` is the intent's unique Outbox key, so a marker can never match a
    message of another intent, even after an Outbox id is reused by a new database.
    """

    outbox_id: int
    key: str
    audience: str
    part: int

    EVENT_TYPE = "launchdeck_delivery"

    def as_metadata(self) -> dict[str, Any]:
        """Slack's ``metadata`` argument: an event type and a flat payload of strings and numbers."""
        return {
            "event_type": self.EVENT_TYPE,
            "event_payload": {
                "outbox_id": self.outbox_id,
                "key": self.key,
                "audience": self.audience,
                "part": self.part,
            },
        }

    def matches(self, metadata: Any) -> bool:
        """True when a message's metadata (as Slack returns it) is this marker's."""
        if not isinstance(metadata, Mapping) or metadata.get("event_type") != self.EVENT_TYPE:
            return False
        payload = metadata.get("event_payload")
        return isinstance(payload, Mapping) and dict(payload) == self.as_metadata()["event_payload"]


class DeliveryFailed(LaunchdeckError):
    """A message could not be delivered; ``retryable`` tells the Outbox delivery whether to try again.

    - ``retryable=True``: Slack was rate limiting, failing or unreachable even after the client's
      own retries. Try again later (not before ``retry_after`` seconds when given).
    - ``retryable=False``: trying again cannot help until a person fixes something (wrong channel,
      app not invited, bad token, missing scope, malformed message). ``reason`` says what to do.
    - ``maybe_delivered=True``: the request reached Slack but no answer came back (a read timeout
      or a dropped connection while posting). Slack may have posted the message, and we do not know
      its ts. The delivery must decide knowingly (retry and risk a duplicate, or park for a
      person) instead of silently posting twice.
    - ``unreachable=True``: the request never reached Slack (connection refused, no route, DNS,
      connect timeout). Nothing about this message failed and nothing was posted: the delivery
      gives the intent back untried and waits for Slack as a whole, so an outage of any length
      parks nothing as dead.
    """

    code = "delivery_failed"

    def __init__(
        self,
        *,
        retryable: bool,
        reason: str,
        slack_error: str | None = None,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.reason = reason
        self.slack_error = slack_error
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered
        self.unreachable = unreachable

    def __repr__(self) -> str:
        return (
            f"DeliveryFailed(retryable={self.retryable!r}, reason={self.reason!r}, "
            f"slack_error={self.slack_error!r}, retry_after={self.retry_after!r}, "
            f"maybe_delivered={self.maybe_delivered!r}, unreachable={self.unreachable!r})"
        )


@runtime_checkable
class Transport(Protocol):
    """Posts, updates and opens DMs. Implementations: Slack, console, test doubles.

    Every method is keyword-only so call sites read unambiguously in the Outbox delivery, and every
    failure is a ``DeliveryFailed``.
    """

    @property
    def name(self) -> str:
        """Short label for logs, the API and the dashboard ("slack", "console")."""
        ...

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], marker: DeliveryMarker | None = None
    ) -> MessageRef:
        """Post a new message; ``text`` is the notification/accessibility fallback for ``blocks``.
        ``marker`` travels with the message so ``find_posted`` can recognise it later."""
        ...

    def find_posted(self, *, channel: str, marker: DeliveryMarker, since: datetime) -> MessageRef | None:
        """The message posted to ``channel`` with ``marker`` no earlier than ``since``, if any.

        Asked before re-posting a part whose earlier attempt may have reached Slack unseen.
        """
        ...

    def update(self, *, ref: MessageRef, text: str, blocks: list[dict[str, Any]]) -> MessageRef:
        """Replace a message posted earlier, keeping its ts (it stays where it is in the channel)."""
        ...

    def open_dm(self, *, user_id: str) -> str:
        """Return the id of the direct-message channel with a user (opening it if needed)."""
        ...


@runtime_checkable
class ViewPublisher(Protocol):
    """Publishes a person's App Home (``views.publish``). The Slack transport does it for real,
    the console logs it (and keeps it for the dashboard), tests point it at the fake Slack."""

    def publish_view(self, *, user_id: str, view: dict[str, Any]) -> None: ...
