"""Delivery to the real Slack Web API (or anything speaking it, such as the fake in the tests).

What this layer owns, and why it is here rather than in the dispatcher:

- **Short, in-request retries** through slack_sdk's retry-handler hook: 429 (waiting Retry-After),
  500/503 and connection failures. Anything still failing afterwards becomes ``DeliveryFailed``
  and the Outbox retries it later, so one slow Slack never blocks the dispatcher for long.
- **No duplicate posts.** ``chat.postMessage`` is not idempotent: if a request reached Slack and
  the answer was lost (read timeout, dropped connection), retrying could post twice. Such posts
  are *not* retried here; they fail with ``maybe_delivered=True``. Every post carries its
  ``DeliveryMarker`` as message metadata, and ``find_posted`` reads the channel's history for it,
  so the dispatcher's next attempt finds the message Slack did post and updates it instead.
  Updates, DM opens and history reads are idempotent and are retried on those errors too.
- **Pacing**: Slack allows about one message per second per channel. We space writes to a channel
  by ``pace_seconds`` ourselves instead of running into 429s; other channels are not held up.
- **Actionable errors**: Slack's error codes become reasons a product-ops person can act on.

All waiting goes through the injected ``sleep``/``clock`` (pacing and retry back-off alike), so
tests run at full speed and can assert the waits.
"""

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from orchestrator.core.errors import ConfigError
from orchestrator.core.settings import Settings

from .transport import DeliveryFailed, DeliveryMarker, MessageRef

log = logging.getLogger(__name__)

Sleep = Callable[[float], None]
Clock = Callable[[], float]

# Methods that are safe to send again after an ambiguous failure (the request may have been
# processed): repeating them leaves Slack in the same state.
IDEMPOTENT_METHODS = frozenset(
    {"chat.update", "conversations.open", "auth.test", "conversations.history", "conversations.list"}
)

# Channel, private channel and DM ids as Slack writes them; anything else is a name to look up.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
# How far back ``find_posted`` reads: pages of 200 messages posted since the intent was created.
HISTORY_PAGES = 20
HISTORY_PAGE_SIZE = 200

# Errors where the request certainly reached the server, so a non-idempotent call may have happened.
AMBIGUOUS_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, ConnectionResetError, RemoteDisconnected)

# Slack error code -> (what it means, what to do). ``{channel}`` is filled in when known.
_PERMANENT_ERRORS: Mapping[str, str] = {
    "channel_not_found": (
        "Slack has no channel {channel} visible to the app: check the channel id configured for the "
        "region/team, and for a private channel invite the app (/invite @launchdeck)"
    ),
    "not_in_channel": "the app is not a member of {channel}: invite the app to {channel} (/invite @launchdeck)",
    "is_archived": "{channel} is archived: unarchive it or configure another channel for the region/team",
    "restricted_action": "a workspace setting stops the app posting in {channel}: ask a Slack admin",
    "restricted_action_read_only_channel": "{channel} is read-only for apps: ask a Slack admin or pick another",
    "invalid_auth": "the bot token is not valid: check LAUNCHDECK_SLACK_BOT_TOKEN (xoxb-...)",
    "not_authed": "no bot token was sent: set LAUNCHDECK_SLACK_BOT_TOKEN",
    "account_inactive": "the app's token belongs to a deleted app or deactivated user: reinstall the app",
    "token_revoked": "the bot token was revoked: reinstall the app and update LAUNCHDECK_SLACK_BOT_TOKEN",
    "token_expired": "the bot token expired: reinstall the app and update LAUNCHDECK_SLACK_BOT_TOKEN",
    "no_permission": "the app lacks permission for this: check its scopes in the manifest and reinstall",
    "missing_scope": "the app lacks the scope {needed}: add it in the manifest and reinstall the app",
    "message_not_found": "the message {channel}/{ts} no longer exists (deleted?): post a new one instead",
    "cant_update_message": "the message {channel}/{ts} was not posted by this app and cannot be updated",
    "edit_window_closed": "Slack no longer allows editing {channel}/{ts}: post a new message instead",
    "user_not_found": "Slack has no user {user}: check the member's Slack user id",
    "user_disabled": "Slack user {user} is deactivated: reassign the item or notify the team",
    "cannot_dm_bot": "{user} is a bot and cannot be sent a DM: notify the team channel instead",
    "msg_too_long": "the message text is too long for Slack: a message builder must split it (bug)",
    "no_text": "the message had no text: a message builder must set the fallback text (bug)",
    "invalid_blocks": "Slack rejected the blocks: a message builder produced invalid Block Kit (bug)",
    "invalid_blocks_format": "Slack rejected the blocks' format: a message builder bug",
    "too_many_attachments": "the message had too many attachments: a message builder bug",
    "invalid_arguments": "Slack rejected the request's arguments: a launchdeck bug",
}

# ok:false codes that Slack documents as transient.
_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def _method_of(request: HttpRequest) -> str:
    """``chat.postMessage`` from ``https://slack.com/api/chat.postMessage?...``."""
    return request.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class _PacedRetry(RetryHandler):
    """Mixin behaviour: wait through the injected ``sleep`` and remember each wait.

    slack_sdk's handlers call ``time.sleep`` directly; routing the wait through ``sleep`` lets tests
    run instantly and lets the transport report how long it waited.
    """

    sleep: Sleep

    def _wait(self, seconds: float, state: RetryState) -> None:
        state.next_attempt_requested = True
        self.sleep(seconds)
        state.increment_current_attempt()

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        self._wait(self.interval_calculator.calculate_sleep_duration(state.current_attempt), state)


class _RateLimitRetry(_PacedRetry, RateLimitErrorRetryHandler):
    """Retry a 429 after exactly Retry-After seconds, but only if that wait is short.

    A long Retry-After (Slack backing off for a minute) is not slept through inside a request: the
    429 surfaces as ``DeliveryFailed(retryable=True, retry_after=N)`` and the Outbox schedules it.
    """

    def __init__(self, *, max_retry_count: int, max_wait: float, sleep: Sleep) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        return retry_after_seconds(response.headers) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        headers = response.headers if response is not None else {}
        self._wait(retry_after_seconds(headers), state)


class _ServerErrorRetry(_PacedRetry, ServerErrorRetryHandler):
    """Retry HTTP 500/503 with exponential back-off and jitter (slack_sdk's calculator)."""

    def __init__(self, *, max_retry_count: int, sleep: Sleep) -> None:
        super().__init__(max_retry_count=max_retry_count, interval_calculator=BackoffRetryIntervalCalculator())
        self.sleep = sleep


class _ConnectionRetry(_PacedRetry, ConnectionErrorRetryHandler):
    """Retry connection failures, but never re-send a non-idempotent call that may have landed.

    ``URLError`` wraps failures while connecting or sending (the server never got a whole request),
    which is safe to retry for every method. Read timeouts and dropped connections after sending
    are retried only for methods in ``IDEMPOTENT_METHODS``.
    """

    def __init__(self, *, max_retry_count: int, sleep: Sleep) -> None:
        super().__init__(
            max_retry_count=max_retry_count,
            interval_calculator=BackoffRetryIntervalCalculator(),
            error_types=[URLError, *AMBIGUOUS_ERRORS],  # type: ignore[list-item]
        )
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is None or response is not None:
            return False
        if isinstance(error, URLError):
            return True
        return isinstance(error, AMBIGUOUS_ERRORS) and _method_of(request) in IDEMPOTENT_METHODS


def retry_after_seconds(headers: Mapping[str, Any]) -> float:
    """Retry-After as seconds from either header shape slack_sdk hands around (str or [str]).

    Slack sends whole seconds; a missing or unreadable header means "about a second".
    """
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                return 1.0
    return 1.0


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
            retry_handlers=[
                _RateLimitRetry(max_retry_count=rate_limit_retries, max_wait=max_retry_after, sleep=sleep),
                _ServerErrorRetry(max_retry_count=server_error_retries, sleep=sleep),
                _ConnectionRetry(max_retry_count=connection_retries, sleep=sleep),
            ],
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
            raise _from_api_error(method, exc, context) from exc
        except AMBIGUOUS_ERRORS as exc:
            idempotent = method in IDEMPOTENT_METHODS
            raise DeliveryFailed(
                retryable=True,
                reason=f"{method}: no answer from Slack ({type(exc).__name__}: {exc})"
                + ("" if idempotent else "; Slack may have posted the message, its ts is unknown"),
                maybe_delivered=not idempotent,
            ) from exc
        except (URLError, OSError) as exc:
            raise DeliveryFailed(retryable=True, reason=f"{method}: cannot reach Slack ({exc})") from exc
        except SlackClientError as exc:
            raise DeliveryFailed(retryable=False, reason=f"{method}: {exc}") from exc


def _from_api_error(method: str, exc: SlackApiError, context: Mapping[str, str]) -> DeliveryFailed:
    """Classify a Slack answer that was not ``ok`` after the client's own retries."""
    response = exc.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = getattr(response, "data", None)
    body: Mapping[str, Any] = data if isinstance(data, dict) else {}
    error = str(body.get("error") or f"http_{status}")
    if status == 429 or error in {"ratelimited", "rate_limited"}:
        wait = retry_after_seconds(getattr(response, "headers", None) or {})
        return DeliveryFailed(
            retryable=True,
            reason=f"{method}: Slack is rate limiting (retry after {wait:g}s)",
            slack_error="ratelimited",
            retry_after=wait,
        )
    if status >= 500 or error in _TRANSIENT_ERRORS:
        return DeliveryFailed(
            retryable=True,
            reason=f"{method}: Slack failed (HTTP {status}, {error}); try again later",
            slack_error=error,
        )
    hint = _PERMANENT_ERRORS.get(error)
    if hint is None:
        advice = f"Slack answered {error}; see https://docs.slack.dev/reference/methods/{method}"
    else:
        fields = {"channel": "the channel", "ts": "?", "user": "the user", **context}
        fields["needed"] = str(body.get("needed") or "it names")
        advice = hint.format(**fields)
    return DeliveryFailed(retryable=False, reason=f"{method} failed with {error}: {advice}", slack_error=error)
