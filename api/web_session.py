"""Dashboard sign-in: a signed session cookie naming who signed in, an API token (typed once on
/login) or a member (signed in with Slack, or with a one-time link from ``/launch login``).

The cookie holds only a subject (``12``: token 12; ``m7``: member 7), when it was issued and an
HMAC over both; no secret is ever stored in the browser. Every page re-reads the subject's row, so
revoking a token or removing a member ends their sessions, and a member's changed role applies on
their next page. Calendar clients cannot carry cookies, so the iCalendar feed takes a signed
per-launch ``feed`` key instead (see ``feed_key``), bound to the same subject.
"""

import base64
import hashlib
import hmac
import secrets
import time
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlmodel import Session

from api.deps import SessionDep
from orchestrator.core.errors import Unauthenticated
from orchestrator.core.settings import get_settings
from orchestrator.directory.principals import principal_for_member
from orchestrator.directory.tokens import Principal, authenticate, principal_for_token

COOKIE = "launchdeck_session"
SESSION_SECONDS = 12 * 3600  # a working day: a Slack link opened tomorrow asks for the token again
DASHBOARD_PREFIX = "/dashboard"


def session_key() -> bytes:
    """The configured secret, or one random key per process (sessions then end on restart)."""
    configured = get_settings().dashboard_session_secret
    if configured is not None:
        return configured.get_secret_value().encode()
    return _PROCESS_KEY


_PROCESS_KEY = secrets.token_bytes(32)


def sign(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that also survives non-ASCII input (a str compare_digest raises)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def subject_of(principal: Principal) -> str:
    """What a session names: the token (``12``), or the member signed in as themselves (``m7``)."""
    if principal.token_id is not None:
        return str(principal.token_id)
    assert principal.member_id is not None
    return f"m{principal.member_id}"


def _is_subject(text: str) -> bool:
    number = text.removeprefix("m")
    return number.isascii() and number.isdigit()


def principal_of(session: Session, subject: str) -> Principal:
    """The subject's principal, read afresh; Unauthenticated when its row is gone or revoked."""
    if subject.startswith("m"):
        return principal_for_member(session=session, member_id=int(subject[1:]))
    return principal_for_token(session=session, token_id=int(subject))


def issue_cookie(subject: str, *, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    body = f"{subject}.{issued}"
    return f"{body}.{sign(session_key(), body)}"


def read_cookie(value: str, *, now: float | None = None) -> str | None:
    """The subject a valid, unexpired cookie names; None for anything else."""
    parts = value.split(".")
    if len(parts) != 3 or not (_is_subject(parts[0]) and parts[1].isascii() and parts[1].isdigit()):
        return None
    body = f"{parts[0]}.{parts[1]}"
    if not same(parts[2], sign(session_key(), body)):
        return None
    age = (now if now is not None else time.time()) - int(parts[1])
    if age < 0 or age > SESSION_SECONDS:
        return None
    return parts[0]


def login(session: Session, secret: str) -> Principal:
    """A token typed on the login form; Unauthenticated with a message meant for that form."""
    secret = secret.strip()
    if not secret:
        raise Unauthenticated("paste an API token (create one with `launchdeck tokens create --role leadership`)")
    return authenticate(session=session, secret=secret)


def feed_key(subject: str, slug: str) -> str:
    """A calendar subscription key for one launch: the subject and an HMAC over it and the slug."""
    return f"{subject}.{sign(session_key(), f'ics:{slug}:{subject}')}"


def read_feed_key(value: str, slug: str) -> str | None:
    subject, _, signature = value.partition(".")
    if not _is_subject(subject) or not same(signature, sign(session_key(), f"ics:{slug}:{subject}")):
        return None
    return subject


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a dashboard path on this site (no open redirect)."""
    if target and target.startswith(DASHBOARD_PREFIX) and not target.startswith("//") and "\\" not in target:
        return target
    return DASHBOARD_PREFIX + "/"


class NeedsLogin(Exception):
    """Raised by the page dependency; the app turns it into a redirect to /login?next=..."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


def page_principal(request: Request, session: SessionDep) -> Principal:
    """The signed-in reader of a dashboard page, or a redirect to the login form."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    subject = read_cookie(request.cookies.get(COOKIE, ""))
    if subject is None:
        raise NeedsLogin(target)
    try:
        return principal_of(session, subject)
    except Unauthenticated:
        raise NeedsLogin(target) from None


PagePrincipal = Annotated[Principal, Depends(page_principal)]
