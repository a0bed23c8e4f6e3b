"""Short, in-request retries of Slack Web API calls, through slack_sdk's retry-handler hook.

- **429**: waited out for exactly Retry-After seconds, but only when that wait is short; a long
  one surfaces as ``DeliveryFailed(retryable=True, retry_after=N)`` and the Outbox schedules it.
- **500/503**: exponential back-off with jitter (slack_sdk's calculator).
- **Connection failures**: retried when the request never fully left (``URLError``); read timeouts
  and dropped connections after sending are retried only for ``IDEMPOTENT_METHODS``, because
  ``chat.postMessage`` could otherwise post twice.

Every wait goes through the injected ``sleep``, so tests run at full speed and can assert the waits.
"""

from collections.abc import Callable, Mapping
from http.client import RemoteDisconnected
from typing import Any
from urllib.error import URLError

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

Sleep = Callable[[float], None]

# Methods that are safe to send again after an ambiguous failure (the request may have been
# processed): repeating them leaves Slack in the same state.
IDEMPOTENT_METHODS = frozenset(
    {"chat.update", "conversations.open", "auth.test", "conversations.history", "conversations.list", "views.publish"}
)

# Errors where the request certainly reached the server, so a non-idempotent call may have happened.
AMBIGUOUS_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, ConnectionResetError, RemoteDisconnected)


def retry_handlers(
    *, rate_limit_retries: int, max_retry_after: float, server_error_retries: int, connection_retries: int, sleep: Sleep
) -> list[RetryHandler]:
    """The handlers a ``WebClient`` is given, in the order slack_sdk asks them."""
    return [
        _RateLimitRetry(max_retry_count=rate_limit_retries, max_wait=max_retry_after, sleep=sleep),
        _ServerErrorRetry(max_retry_count=server_error_retries, sleep=sleep),
        _ConnectionRetry(max_retry_count=connection_retries, sleep=sleep),
    ]


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
