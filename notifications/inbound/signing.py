"""Slack request signing (v0): the only proof that an inbound request really came from Slack.

Slack signs ``v0:<timestamp>:<raw body>`` with the app's signing secret (HMAC-SHA256) and sends
the result as ``X-Slack-Signature`` next to ``X-Slack-Request-Timestamp`` (research/slack.md §1).
This module checks that over the raw bytes, before anything parses the body, so a forged or
replayed request never reaches a parser or a service.

Why not ``slack_sdk.signature.SignatureVerifier`` directly: it decodes the body as UTF-8 (a
non-UTF-8 body raises instead of failing verification), raises ``ValueError`` on a non-numeric
timestamp, hard-codes the five-minute window and answers a bare ``bool``. Here every failure is one
typed ``BadSignature`` with a reason the logs can show, the clock is a parameter (tests need no
freezing) and the HMAC is computed over the bytes exactly as received. The result is the same
signature (the tests check it against ``SignatureVerifier`` and Slack's documented vector).
"""

import hashlib
import hmac
import re

from orchestrator.core.errors import LaunchdeckError

VERSION = "v0"
DEFAULT_TOLERANCE_SECONDS = 300  # Slack's documented replay window: five minutes either way
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # unix seconds; int() alone would accept "+1", " 1", "1_0"


class BadSignature(LaunchdeckError):
    """The request is not provably from Slack (missing headers, stale or forged): answer 401 and
    change nothing. ``reason`` is for logs; it never contains the secret or the expected HMAC."""

    code = "bad_slack_signature"

    def __init__(self, reason: str) -> None:
        super().__init__(f"the Slack request signature is not valid: {reason}")
        self.reason = reason


def slack_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``v0=<hex HMAC-SHA256>`` of ``v0:<timestamp>:<body>``, as Slack computes it.

    Public so tests (and a local replay tool) sign requests exactly the way Slack does."""
    base = f"{VERSION}:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"{VERSION}={digest}"


def verify_slack_request(
    *,
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Return if ``body`` was signed by Slack with ``secret`` within ``tolerance_seconds`` of ``now``;
    raise ``BadSignature`` otherwise.

    The window is inclusive (exactly ±300 s passes), like slack_sdk. The signature comparison is
    constant-time (``hmac.compare_digest``) so the expected value cannot be guessed byte by byte.
    """
    if not secret:
        raise BadSignature("no signing secret is configured")
    if not timestamp:
        raise BadSignature("the X-Slack-Request-Timestamp header is missing")
    if not signature:
        raise BadSignature("the X-Slack-Signature header is missing")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise BadSignature("the X-Slack-Request-Timestamp header is not a unix time in seconds")
    skew = now - int(timestamp)
    if abs(skew) > tolerance_seconds:
        direction = "old" if skew > 0 else "in the future"
        raise BadSignature(
            f"the request timestamp is {abs(int(skew))} s {direction}; at most {tolerance_seconds} s is accepted"
            " (a replay, or this server's clock is wrong)"
        )
    expected = slack_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise BadSignature("the signature does not match the body (wrong signing secret, or the body was altered)")
