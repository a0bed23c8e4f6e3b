"""Signing in and out of the dashboard, without Slack's OpenID Connect (``slack_signin``): an API
token pasted on /login, a one-time link from ``/launch login``, and signing out (a POST: a link or
an image elsewhere cannot sign anyone out; GET /logout only asks).

Every form here is CSRF-checked by the router's ``SecureRoute`` before its handler runs.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep
from api.pages import render
from api.web_security import SecureRoute, csrf_token, form_fields, set_cookie
from api.web_session import COOKIE, DASHBOARD_PREFIX, SESSION_SECONDS, issue_cookie, login, safe_next, subject_of
from notifications.inbound.slack_sign_in import sign_in_from_settings
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import Unauthenticated
from orchestrator.core.settings import get_settings
from orchestrator.directory.login_links import redeem_login_link
from orchestrator.directory.tokens import Principal

router = APIRouter(include_in_schema=False, route_class=SecureRoute)


def login_page(request: Request, *, next: str, error: str | None = None, signed_out: bool = False) -> str:
    return render(
        "login.html",
        next=next,
        error=error,
        signed_out=signed_out,
        csrf=csrf_token(request),
        slack_sign_in=sign_in_from_settings(get_settings()) is not None,
    )


def signed_in(request: Request, principal: Principal, target: str) -> RedirectResponse:
    """Where the person was going, with a session cookie naming them."""
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, COOKIE, issue_cookie(subject_of(principal)), max_age=SESSION_SECONDS)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return HTMLResponse(login_page(request, next=safe_next(next)))


@router.post("/login")
def login_submit(request: Request, session: SessionDep) -> Response:
    """Exchange a pasted API token for a session cookie; a bad token re-shows the form with why."""
    fields = form_fields(request)
    target = safe_next(fields.get("next"))
    try:
        principal = login(session, fields.get("token", ""))
    except Unauthenticated as exc:
        return HTMLResponse(login_page(request, next=target, error=str(exc.message)), status_code=401)
    return signed_in(request, principal, target)


@router.get("/logout")
def logout_confirm(request: Request) -> HTMLResponse:
    """Only asks: signing out is the form's POST."""
    return HTMLResponse(
        render(
            "confirm.html",
            title="Sign out?",
            text="Sign out of the launch dashboard in this browser.",
            action="/logout",
            fields={},
            button="Sign out",
            csrf=csrf_token(request),
        )
    )


@router.post("/logout")
def logout(request: Request) -> HTMLResponse:
    """Forget the cookie (a token stays valid: revoke it with `launchdeck tokens revoke`)."""
    response = HTMLResponse(login_page(request, next=DASHBOARD_PREFIX + "/", signed_out=True))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/auth/link/{secret}")
def link_confirm(request: Request, secret: str) -> HTMLResponse:
    """A link from ``/launch login``: a button, not a sign-in, so a link preview or a mail
    scanner that opens the link does not use it up."""
    page = render(
        "confirm.html",
        title="Sign in to launchdeck",
        text="This one-time link from Slack signs you in to the launch dashboard in this browser.",
        action="/auth/link",
        fields={"link": secret},
        button="Sign in",
        csrf=csrf_token(request),
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/auth/link")
def link_redeem(request: Request, session: SessionDep) -> Response:
    """Use the link up and sign its member in; used, expired or unknown links are refused."""
    try:
        principal = redeem_login_link(session=session, secret=form_fields(request).get("link", ""), now=utcnow())
    except Unauthenticated as exc:
        message = str(exc.message)
        page = render(
            "auth_problem.html",
            title="This link does not sign you in",
            message=message[:1].upper() + message[1:] + ".",
            keepers=[],
            csrf=csrf_token(request),
        )
        return HTMLResponse(page, status_code=401)
    return signed_in(request, principal, DASHBOARD_PREFIX + "/")
