"""What every dashboard page and form gets (the dashboard router's ``SecureRoute``):

- **CSRF**: every POST carries a hidden ``csrf`` field equal to an HMAC of the browser's own
  ``launchdeck_csrf`` cookie (signed double submit: a site that cannot read our pages cannot know
  it), and a POST that says it is cross-site (``Sec-Fetch-Site: cross-site``, or an ``Origin`` that
  is not ours) is refused too. A refused POST is a 403 that runs nothing.
- **Headers** on every answer: a Content-Security-Policy with no script at all and no framing,
  ``X-Frame-Options: DENY``, ``nosniff`` and ``Referrer-Policy: same-origin`` (so a sign-in link's
  secret never leaves for another site in a Referer).
- **Cookies** ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came over https:
  its own scheme, or ``X-Forwarded-Proto: https`` from a proxy listed in
  ``LAUNCHDECK_TRUSTED_PROXIES`` (from anyone else the header is ignored).
"""

import hmac
import secrets
from collections.abc import Callable, Coroutine
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from api.pages import render
from api.web_session import session_key, sign
from orchestrator.core.settings import get_settings

CSRF_COOKIE = "launchdeck_csrf"
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 8192
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: with it, browsers send "Origin: null" on our own form posts (refused below).
    "Referrer-Policy": "same-origin",
}
REFUSED = (
    "This form was sent from another site or an old page, so nothing was done. Go back, reload the page and try again."
)


def csrf_token(request: Request) -> str:
    """The hidden field for this browser's forms (a new browser gets its cookie with the answer)."""
    seed = request.cookies.get(CSRF_COOKIE, "")
    if not _plausible(seed):
        seed = getattr(request.state, "new_csrf_seed", None) or secrets.token_urlsafe(32)
        request.state.new_csrf_seed = seed
    return sign(session_key(), f"csrf:{seed}")


def _plausible(seed: str) -> bool:
    return 20 <= len(seed) <= 64 and seed.isascii() and all(ch.isalnum() or ch in "-_" for ch in seed)


def form_fields(request: Request) -> dict[str, str]:
    """The first value of each field of a (read, size-capped) urlencoded form body."""
    body: bytes = request.state.form_body
    fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", errors="replace"))
    return {name: values[0] for name, values in fields.items()}


def is_https(request: Request) -> bool:
    """Did the browser reach us over https? Behind a proxy, only a trusted proxy's word counts."""
    forwarded = request.headers.get("x-forwarded-proto")
    if forwarded is None:
        return request.url.scheme == "https"
    peer = request.client.host if request.client else ""
    return forwarded.strip().lower() == "https" and _trusted(peer)


def _trusted(peer: str) -> bool:
    try:
        address = ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in _networks(get_settings().trusted_proxies))


@lru_cache(maxsize=4)
def _networks(setting: str) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=is_https(request), path="/")


def _cross_site(request: Request) -> bool:
    fetch_site = request.headers.get("sec-fetch-site", "").lower()
    if fetch_site == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None or (origin == "null" and fetch_site == "same-origin"):
        return False
    ours = {f"{request.url.scheme}://{request.headers.get('host', '')}"}
    public = get_settings().public_url
    if public:
        parts = urlsplit(public)
        ours.add(f"{parts.scheme}://{parts.netloc}")
    return origin.rstrip("/").lower() not in {item.lower() for item in ours}


async def _csrf_refusal(request: Request) -> Response | None:
    request.state.form_body = await request.body()
    given = form_fields(request).get(CSRF_FIELD, "")
    seed = request.cookies.get(CSRF_COOKIE, "")
    expected = sign(session_key(), f"csrf:{seed}")
    if _cross_site(request) or not _plausible(seed) or not hmac.compare_digest(given.encode(), expected.encode()):
        return HTMLResponse(
            render("auth_problem.html", title="Refused", message=REFUSED, keepers=[], csrf=csrf_token(request)),
            status_code=403,
        )
    return None


def _finish(request: Request, response: Response) -> Response:
    for name, value in PAGE_HEADERS.items():
        response.headers.setdefault(name, value)
    seed = getattr(request.state, "new_csrf_seed", None)
    if seed is not None:
        set_cookie(request, response, CSRF_COOKIE, seed, max_age=30 * 24 * 3600)
    return response


class SecureRoute(APIRoute):
    """A dashboard route: CSRF-checked when it is a POST, with the security headers on its answer."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def secured(request: Request) -> Response:
            if request.method == "POST":
                refusal = await _csrf_refusal(request)
                if refusal is not None:
                    return _finish(request, refusal)
            return _finish(request, await handler(request))

        return secured
