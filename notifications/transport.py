"""The seam between "what to say" and "how it reaches Slack".

The dispatcher delivers Outbox intents through a ``Transport`` and never touches slack_sdk itself,
so the same delivery code runs against real Slack, the console (no Slack configured) or a fake in
tests. A transport either returns a ``MessageRef`` or raises ``DeliveryFailed``: nothing else
escapes, so the dispatcher has exactly one failure path to reason about (retry later, or park).
"""

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from orchestrator.errors import LaunchdeckError


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a posted message lives: what ``chat.update`` needs to change it in place later.

    ``channel`` is the channel *id* Slack answered with (not the ``#name`` we may have posted to),
    because ``chat.update`` only accepts ids. Store both fields with the Outbox row: a retried
    intent that already has a ref is updated, never posted a second time.
    """

    channel: str
    ts: str


class DeliveryFailed(LaunchdeckError):
    """A message could not be delivered; ``retryable`` tells the dispatcher whether to try again.

    - ``retryable=True``: Slack was rate limiting, failing or unreachable even after the client's
      own retries. Try again later (not before ``retry_after`` seconds when given).
    - ``retryable=False``: trying again cannot help until a person fixes something (wrong channel,
      app not invited, bad token, missing scope, malformed message). ``reason`` says what to do.
    - ``maybe_delivered=True``: the request reached Slack but no answer came back (a read timeout
      or a dropped connection while posting). Slack may have posted the message, and we do not know
      its ts. The dispatcher must decide knowingly (retry and risk a duplicate, or park for a
      person) instead of silently posting twice.
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
    ) -> None:
        super().__init__(reason)
        self.retryable = retryable
        self.reason = reason
        self.slack_error = slack_error
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered

    def __repr__(self) -> str:
        return (
            f"DeliveryFailed(retryable={self.retryable!r}, reason={self.reason!r}, "
            f"slack_error={self.slack_error!r}, retry_after={self.retry_after!r}, "
            f"maybe_delivered={self.maybe_delivered!r})"
        )


@runtime_checkable
class Transport(Protocol):
    """Posts, updates and opens DMs. Implementations: Slack, console, test doubles.

    Every method is keyword-only so call sites read unambiguously in the dispatcher, and every
    failure is a ``DeliveryFailed``.
    """

    @property
    def name(self) -> str:
        """Short label for logs, the API and the dashboard ("slack", "console")."""
        ...

    def post(self, *, channel: str, text: str, blocks: list[dict[str, Any]]) -> MessageRef:
        """Post a new message; ``text`` is the notification/accessibility fallback for ``blocks``."""
        ...

    def update(self, *, ref: MessageRef, text: str, blocks: list[dict[str, Any]]) -> MessageRef:
        """Replace a message posted earlier, keeping its ts (it stays where it is in the channel)."""
        ...

    def open_dm(self, *, user_id: str) -> str:
        """Return the id of the direct-message channel with a user (opening it if needed)."""
        ...
