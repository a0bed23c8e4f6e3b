"""The built-in rollout targets: where a region's exposure changes go.

Implementations of ``orchestrator.rollouts.target.RolloutTarget`` (the flagd file target lives in
``flows.flagd_target``; ``flows.target_registry`` picks one per launch):

- ``RecordingTarget`` writes each change to the ``exposurechange`` table. It is the default, so a
  company can run launchdeck before wiring it to a feature-flag system, and it is what tests and
  dashboards read to see which steps a region received.
- ``WebhookTarget`` POSTs each change to a URL the company owns, which flips its own flags.

Webhook contract (for whoever writes the receiver)
--------------------------------------------------
Request: ``POST <LAUNCHDECK_WEBHOOK_URL>`` with a JSON object body::

    {"launch": "acme-assistant", "launch_id": 7, "region": "EU", "phase": "public_beta",
     "percent": 25, "rollout_id": 12, "idempotency_key": "...",
     "requested_at": "2027-03-01T09:00:00+00:00"}

signed the Standard Webhooks way (https://www.standardwebhooks.com), so a receiver in any language
verifies it with a ready-made library (Python: ``standardwebhooks.Webhook(secret).verify(body,
headers)``). Headers:

- ``webhook-id``: the change's idempotency key (also the body's ``idempotency_key`` and the
  ``Idempotency-Key`` header). launchdeck may deliver the same change more than once (a retry
  after a timeout whose request did arrive, a worker that crashed between the call and its
  bookkeeping); treat an id you have seen as already done and answer 2xx again.
- ``webhook-timestamp``: Unix time in whole seconds when this attempt was signed.
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">``
  keyed with the base64-decoded part of the ``whsec_...`` secret; during a secret rotation one
  signature per secret (current first), separated by spaces, so receivers still on the previous
  secret keep verifying until they switch.

Answers: any 2xx means "applied" (or "already applied"). 429 and 5xx mean "try later": launchdeck
retries with full-jitter exponential backoff, honouring ``Retry-After`` on 429 and 503 (seconds or
an HTTP date, capped at ``MAX_RETRY_AFTER_SECONDS``). Any other status (3xx, 4xx) means the request
itself is wrong; launchdeck does not retry it and raises ``WebhookRejected`` so a person looks at it.
"""

import json
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from standardwebhooks import Webhook

from flows.flagd_target import FlagdTarget
from flows.unleash_target import unleash_target_from_settings
from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.errors import ConfigError
from orchestrator.core.settings import Settings
from orchestrator.rollouts.recording import record_exposure
from orchestrator.rollouts.target import ExposureRequest, RolloutTarget, TargetRejected, TargetUnavailable

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_BACKOFF_SECONDS = 10.0
MAX_RETRY_AFTER_SECONDS = 30.0
RETRY_AFTER_STATUSES = frozenset({429, 503})
BODY_EXCERPT_CHARS = 200

# Failures where the same request may well succeed later. Other transport errors (an unsupported
# URL scheme, a malformed request) are bugs or misconfiguration and propagate unchanged.
_TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


class RecordingTarget:
    """Stores exposure changes in the database instead of calling out.

    Opens its own session per call, so a flow task can call it without sharing a session (and a
    half-finished transaction) with the code that decided on the change.
    """

    name = "recording"

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def apply(self, request: ExposureRequest) -> None:
        """Record the change; a repeat of one already stored (same idempotency key) is a no-op."""
        try:
            self._record(request)
        except IntegrityError:
            # Two workers applied the same step at once (possible on PostgreSQL, where both can
            # see "not stored yet" before either commits) and the unique constraint refused the
            # second insert. Looking again finds the winner's row and returns quietly; any other
            # integrity problem (an unknown rollout id) fails again and propagates.
            self._record(request)

    def _record(self, request: ExposureRequest) -> None:
        with Session(self._engine) as session:
            record_exposure(session=session, request=request)


class WebhookRejected(TargetRejected):
    """The webhook answered with a status that says the request is wrong; retrying cannot help."""

    code = "webhook_rejected"

    def __init__(self, status: int, body_excerpt: str, *, url: str | None = None) -> None:
        where = f"webhook {url}" if url else "the webhook"
        detail = f": {body_excerpt}" if body_excerpt else " (empty body)"
        super().__init__(
            f"{where} rejected the exposure change with HTTP {status}{detail}; "
            "not retried — fix the receiver or LAUNCHDECK_WEBHOOK_URL, then resume the region"
        )
        self.status = status
        self.body_excerpt = body_excerpt
        self.url = url


def signers(secrets: Sequence[str]) -> list[Webhook]:
    """One Standard Webhooks signer per ``whsec_...`` secret, current first; a malformed secret
    is refused here (at start-up) rather than on the first delivery."""
    if not secrets:
        raise ValueError("the webhook target needs at least one signing secret")
    found: list[Webhook] = []
    for position, secret in enumerate(secrets):
        which = "the current secret" if position == 0 else f"previous secret {position}"
        if not secret.startswith("whsec_"):
            raise ValueError(f"{which} must look like whsec_<base64 of 24 to 64 random bytes>")
        try:
            found.append(Webhook(secret))
        except Exception:  # noqa: BLE001 - binascii.Error, EmptyWebhookSecretError: same advice
            raise ValueError(f"{which} is not whsec_ followed by base64 of at least one byte") from None
    return found


def encode_body(request: ExposureRequest) -> bytes:
    """The JSON body for ``request``: compact and key-sorted, so the same change is the same bytes."""
    payload: dict[str, Any] = {
        "launch": request.launch_slug,
        "launch_id": request.launch_id,
        "region": request.region,
        "phase": str(request.phase),
        "percent": request.percent,
        "rollout_id": request.rollout_id,
        "idempotency_key": request.idempotency_key,
        "requested_at": as_utc(request.requested_at).isoformat(),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def redact_url(url: str) -> str:
    """The URL without query string, fragment or credentials: safe for logs and error messages
    (webhook URLs often carry a token in the query)."""
    try:
        return str(httpx.URL(url).copy_with(query=None, fragment=None, userinfo=b""))
    except httpx.InvalidURL:
        return url.split("?", 1)[0].split("#", 1)[0]


def _excerpt(text: str) -> str:
    collapsed = " ".join(text.split())
    if len(collapsed) > BODY_EXCERPT_CHARS:
        return collapsed[:BODY_EXCERPT_CHARS] + "…"
    return collapsed


def _retry_after(response: httpx.Response, now: datetime) -> float | None:
    """``Retry-After`` on 429/503 in seconds (a number, or an HTTP date less ``now``), capped;
    None when absent or unreadable. A date in the past means "now": zero."""
    if response.status_code not in RETRY_AFTER_STATUSES:
        return None
    raw = (response.headers.get("Retry-After") or "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(raw) - now).total_seconds()
        except (TypeError, ValueError):
            return None
        seconds = max(seconds, 0.0)
    if seconds != seconds or seconds < 0:  # NaN or negative: ignore rather than trust
        return None
    return min(seconds, MAX_RETRY_AFTER_SECONDS)


def full_jitter(ceiling: float) -> float:
    """A wait drawn evenly from [0, ceiling]: retries of many workers spread out instead of
    arriving at the receiver together (AWS's "full jitter")."""
    return random.uniform(0.0, ceiling)


class WebhookTarget:
    """Sends exposure changes to a company's HTTPS endpoint, signed, retried while transient.

    Retries live here rather than only in the flow so one flaky response does not fail a task run
    and show up as a red run in the Prefect UI; once the attempts are spent it raises
    ``TargetUnavailable`` and the flow's own retry policy (or the sweep) takes over.
    """

    name = "webhook"

    def __init__(
        self,
        *,
        url: str,
        secrets: Sequence[str],
        timeout_seconds: float = 5.0,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
        jitter: Callable[[float], float] = full_jitter,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if backoff_seconds < 0:
            raise ValueError("backoff_seconds must not be negative")
        self.url = url
        self._signers = signers(secrets)
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        # A client we create we also close; one passed in belongs to the caller.
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(follow_redirects=False)

    def __repr__(self) -> str:  # never show the secret
        return f"WebhookTarget(url={redact_url(self.url)!r}, max_attempts={self.max_attempts})"

    def close(self) -> None:
        """Release pooled connections (only when this target created the client)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def backoff_ceiling(self, attempt: int) -> float:
        """The longest wait after failed attempt number ``attempt`` (0-based): doubling, capped."""
        return float(min(self.backoff_seconds * 2**attempt, MAX_BACKOFF_SECONDS))

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt``: full jitter below the ceiling."""
        ceiling = self.backoff_ceiling(attempt)
        return min(max(self._jitter(ceiling), 0.0), ceiling)

    def apply(self, request: ExposureRequest) -> None:
        """Deliver one change; return on 2xx, retry transient failures, raise otherwise.

        The body is encoded once, so every attempt sends (and signs) the very same bytes under the
        same ``webhook-id``; each attempt gets a fresh timestamp and signature so a retry after a
        long wait is not refused as stale by the receiver.
        """
        body = encode_body(request)
        last_error = "no attempt made"
        for attempt in range(self.max_attempts):
            delay: float | None = None
            try:
                response = self._client.post(
                    self.url,
                    content=body,
                    headers=self._headers(request, body),
                    timeout=self.timeout_seconds,
                )
            except _TRANSIENT_ERRORS as exc:
                last_error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return
                excerpt = _excerpt(response.text)
                if status != 429 and status < 500:
                    raise WebhookRejected(status, excerpt, url=redact_url(self.url))
                last_error = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
                delay = _retry_after(response, self._clock())
            if attempt + 1 < self.max_attempts:
                self._sleep(delay if delay is not None else self.backoff(attempt))
        raise TargetUnavailable(
            f"webhook {redact_url(self.url)} did not take exposure change {request.idempotency_key!r} "
            f"after {self.max_attempts} attempt(s); last error: {last_error}"
        )

    def _headers(self, request: ExposureRequest, body: bytes) -> dict[str, str]:
        signed_at = self._clock()
        signatures = [signer.sign(request.idempotency_key, signed_at, body) for signer in self._signers]
        return {
            "Content-Type": "application/json",
            IDEMPOTENCY_HEADER: request.idempotency_key,
            ID_HEADER: request.idempotency_key,
            TIMESTAMP_HEADER: str(int(signed_at.timestamp())),
            SIGNATURE_HEADER: " ".join(signatures),
        }


def target_from_settings(settings: Settings, engine: Engine, *, name: str | None = None) -> RolloutTarget:
    """The rollout target called ``name`` (default: ``LAUNCHDECK_ROLLOUT_TARGET``), from the settings."""
    name = name or settings.rollout_target
    problem = settings.target_problem(name)
    if problem is not None:
        # Settings validation already refuses this for the default; guard hand-built settings
        # and targets a launch names.
        raise ConfigError("settings", [problem])
    if name == "recording":
        return RecordingTarget(engine)
    if name == "unleash":
        return unleash_target_from_settings(settings, engine)  # checks the server once, at start-up
    if name == "flagd":
        assert settings.flagd_file is not None
        return FlagdTarget(settings.flagd_file)
    if name == "webhook" and settings.webhook_url is not None:
        return WebhookTarget(
            url=settings.webhook_url,
            secrets=settings.webhook_secrets(),
            timeout_seconds=settings.webhook_timeout_seconds,
            max_attempts=settings.webhook_max_attempts,
        )
    raise ConfigError("settings", [f"no {name} rollout target can be built from these settings"])
