"""Delivery to the real Slack Web API (or anything speaking it, such as the fake in the tests).

What this layer owns, and why it is here rather than in the Outbox delivery:

- **Short, in-request retries** (``retries``): 429 (waiting Retry-After), 500/503 and
  connection failures. Anything still failing afterwards becomes ``DeliveryFailed``
  (``slack_errors``) and the Outbox retries it later, so one slow Slack never blocks delivery
  for long.
- **No duplicate posts.** ``chat.postMessage`` is not idempotent: if a request reached Slack and
  the answer was lost (read timeout, dropped connection), retrying could post twice. Such posts
  are *not* retried here; they fail with ``maybe_delivered=True``. Every post carries its
  ``DeliveryMarker`` as message metadata, and ``find_posted`` reads the channel's history for it,
  so the next delivery attempt finds the message Slack did post and updates it instead.
  Updates, DM opens and history reads are idempotent and are retried on those errors too.
- **Pacing**: Slack allows about one message per second per channel. We space writes to a channel
  by ``pace_seconds`` ourselves instead of running into 429s; other channels are not held up.
- **Actionable errors** (``slack_errors``): Slack's error codes become reasons a product-ops
  person can act on.

All waiting goes through the injected ``sleep``/``clock`` (pacing and retry back-off alike), so
tests run at full speed and can assert the waits.
"""

import logging
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from notifications.delivery.retries import AMBIGUOUS_ERRORS, IDEMPOTENT_METHODS, Sleep, retry_handlers
from notifications.delivery.slack_errors import from_api_error
from notifications.delivery.transport import DeliveryFailed, DeliveryMarker, MessageRef
from orchestrator.core.errors import ConfigError
from orchestrator.core.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# Channel, private channel and DM ids as Slack writes them; anything else is a name to look up.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
# How far back ``find_posted`` reads: pages of 200 messages posted since the intent was created.
HISTORY_PAGES = 20
HISTORY_PAGE_SIZE = 200


class SlackTransport:
    """``Transport`` over slack_sdk's ``WebClient``; see the module docstring for the rules."""

    name = "slack"

    def __init__(
        self,
        *,
        token: str,
        base_url: str,
        timeout: float = 10,
        pace_seconds: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        rate_limit_retries: int = 3,
        max_retry_after: float = 30.0,
        server_error_retries: int = 2,
        connection_retries: int = 2,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._pace = pace_seconds
        self._next_slot: dict[str, float] = {}
        self._pace_lock = threading.Lock()
        self._channel_ids: dict[str, str] = {}  # channel name without "#" -> id, learnt from answers
        self.client = WebClient(
            token=token,
            base_url=base_url,
            # urllib takes float seconds; slack_sdk merely annotates the parameter as int.
            timeout=timeout,  # type: ignore[arg-type]
            retry_handlers=retry_handlers(
                rate_limit_retries=rate_limit_retries,
                max_retry_after=max_retry_after,
                server_error_retries=server_error_retries,
                connection_retries=connection_retries,
                sleep=sleep,
            ),
        )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> "SlackTransport":
        """Build from ``LAUNCHDECK_SLACK_*``; a missing token is a configuration error, not a 401 later."""
        if settings.slack_bot_token is None:
            raise ConfigError("environment", ["LAUNCHDECK_SLACK_BOT_TOKEN is not set (the app's xoxb-... token)"])
        return cls(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url, **options)

    # -- Transport ------------------------------------------------------------------------------

    def post(
        self, *, channel: str, text: str, blocks: list[dict[str, Any]], marker: DeliveryMarker | None = None
    ) -> MessageRef:
        """``chat.postMessage``; the returned ref carries the channel *id* Slack resolved."""
        self._pace_channel(channel)
        response = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata=marker.as_metadata() if marker is not None else None,
            ),
            channel=channel,
        )
        channel_id = str(response.get("channel") or channel)
        if not _CHANNEL_ID.match(channel):
            self._channel_ids[channel.removeprefix("#")] = channel_id
        return MessageRef(channel=channel_id, ts=str(response["ts"]))

    def find_posted(self, *, channel: str, marker: DeliveryMarker, since: datetime) -> MessageRef | None:
        """Read ``conversations.history`` since ``since`` for a message carrying ``marker``.

        Needs the ``channels:history``, ``groups:history`` and ``im:history`` scopes (and
        ``channels:read``/``groups:read`` to turn a ``#name`` into an id); without them Slack answers
        ``missing_scope`` and the intent is parked with that advice rather than risking a second
        post. A channel Slack does not know has no message to find.
        """
        channel_id = self._resolve_channel(channel)
        if channel_id is None:
            return None
        oldest = f"{since.timestamp():.6f}"
        cursor: str | None = None
        for _page in range(HISTORY_PAGES):
            response = self._call(
                "conversations.history",
                partial(
                    self.client.conversations_history,
                    channel=channel_id,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=HISTORY_PAGE_SIZE,
                    cursor=cursor,
                ),
                channel=channel,
            )
            for message in response.get("messages") or []:
                if marker.matches(message.get("metadata")):
                    return MessageRef(channel=channel_id, ts=str(message["ts"]))
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "") or None
            if cursor is None:
                return None
        log.warning(
            "%s has more than %d messages since %s; %s not found in them, posting it",
            channel,
            HISTORY_PAGES * HISTORY_PAGE_SIZE,
            since.isoformat(),
            marker.key,
        )
        return None

    def update(self, *, ref: MessageRef, text: str, blocks: list[dict[str, Any]]) -> MessageRef:
        """``chat.update`` in place; safe to repeat, so read timeouts are retried."""
        self._pace_channel(ref.channel)
        response = self._call(
            "chat.update",
            lambda: self.client.chat_update(channel=ref.channel, ts=ref.ts, text=text, blocks=blocks),
            channel=ref.channel,
            ts=ref.ts,
        )
        return MessageRef(channel=str(response.get("channel") or ref.channel), ts=str(response.get("ts") or ref.ts))

    def open_dm(self, *, user_id: str) -> str:
        """``conversations.open`` with one user; Slack returns the existing DM when there is one."""
        response = self._call("conversations.open", lambda: self.client.conversations_open(users=user_id), user=user_id)
        channel = response.get("channel") or {}
        return str(channel["id"])

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        """``views.open`` for a modal (waive reason, evidence link); the trigger lives 3 seconds."""
        self._call("views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view))

    def publish_view(self, *, user_id: str, view: dict[str, Any]) -> None:
        """``views.publish`` of a person's App Home (the bot token suffices, no extra scope)."""
        self._call("views.publish", lambda: self.client.views_publish(user_id=user_id, view=view), user=user_id)

    def verify(self) -> str:
        """``auth.test`` at start-up, so a bad token shows up as one clear message, not per intent."""
        response = self._call("auth.test", self.client.auth_test)
        return f"{response.get('user')} in {response.get('team')}"

    # -- internals ------------------------------------------------------------------------------

    def _resolve_channel(self, channel: str) -> str | None:
        """A channel id for ``conversations.history``, which takes no names: ids pass through,
        names come from earlier answers or one walk over ``conversations.list``."""
        if _CHANNEL_ID.match(channel):
            return channel
        name = channel.removeprefix("#")
        if name not in self._channel_ids:
            cursor: str | None = None
            while True:
                response = self._call(
                    "conversations.list",
                    partial(
                        self.client.conversations_list,
                        types="public_channel,private_channel",
                        exclude_archived=True,
                        limit=1000,
                        cursor=cursor,
                    ),
                    channel=channel,
                )
                for found in response.get("channels") or []:
                    self._channel_ids.setdefault(str(found.get("name")), str(found.get("id")))
                cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "") or None
                if cursor is None or name in self._channel_ids:
                    break
        return self._channel_ids.get(name)

    def _pace_channel(self, channel: str) -> None:
        """Reserve the channel's next send slot and sleep only until it comes.

        A reservation (rather than holding a lock while sleeping) keeps concurrent senders to
        different channels independent and still spaces senders to the same channel.
        """
        if self._pace <= 0:
            return
        with self._pace_lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(channel, now))
            self._next_slot[channel] = slot + self._pace
        wait = slot - now
        if wait > 0:
            log.debug("pacing %s: waiting %.2fs", channel, wait)
            self._sleep(wait)

    def _call(self, method: str, send: Callable[[], Any], **context: str) -> Any:
        """Run one Web API call; every failure leaves as ``DeliveryFailed``."""
        try:
            return send()
        except SlackApiError as exc:
            raise from_api_error(method, exc, context) from exc
        except AMBIGUOUS_ERRORS as exc:
            idempotent = method in IDEMPOTENT_METHODS
            raise DeliveryFailed(
                retryable=True,
                reason=f"{method}: no answer from Slack ({type(exc).__name__}: {exc})"
                + ("" if idempotent else "; Slack may have posted the message, its ts is unknown"),
                maybe_delivered=not idempotent,
            ) from exc
        except URLError as exc:  # urllib's wrapper of a failure while connecting or sending: Slack got nothing
            reason = f"{method}: cannot reach Slack ({exc})"
            raise DeliveryFailed(retryable=True, reason=reason, unreachable=True) from exc
        except OSError as exc:
            raise DeliveryFailed(retryable=True, reason=f"{method}: cannot reach Slack ({exc})") from exc
        except SlackClientError as exc:
            raise DeliveryFailed(retryable=False, reason=f"{method}: {exc}") from exc
