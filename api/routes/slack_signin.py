"""Sign in with Slack (OpenID Connect): /auth/slack sends the browser to Slack's authorize page
with a fresh ``state`` and ``nonce``, remembered in a short-lived signed cookie of this browser;
/auth/slack/callback takes Slack's code back only with that state, exchanges it (the nonce must
come back in the ID token), and signs in the directory's member for that Slack user (by Slack
user id, else verified email). Someone Slack knows and the directory does not is told whom to
ask, and is not signed in.
"""

import base64
import json
import secrets
import time
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep
from api.pages import render
from api.routes.signin import signed_in
from api.web_security import SecureRoute, csrf_token, set_cookie
from api.web_session import safe_next, same, session_key, sign
from notifications.inbound.slack_sign_in import SignInFailed, SlackSignIn, sign_in_from_settings
from orchestrator.core.settings import get_settings
from orchestrator.directory.principals import (
    SlackIdentity,
    directory_keepers,
    member_for_identity,
    member_principal,
)

router = APIRouter(include_in_schema=False, route_class=SecureRoute)
FLOW_COOKIE = "launchdeck_oidc"
FLOW_SECONDS = 600  # time to choose a workspace and approve on Slack's page
CALLBACK_PATH = "/auth/slack/callback"
START_AGAIN = "Start again from the sign-in page."


@dataclass(frozen=True)
class Flow:
    """One browser's sign-in in progress: what Slack must send back, and where to go after."""

    state: str
    nonce: str
    next: str


def issue_flow(flow: Flow, *, now: float | None = None) -> str:
    data = {"s": flow.state, "n": flow.nonce, "x": flow.next, "t": int(now if now is not None else time.time())}
    body = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{body}.{sign(session_key(), 'oidc:' + body)}"


def read_flow(value: str, *, now: float | None = None) -> Flow | None:
    body, _, signature = value.partition(".")
    if not body or not same(signature, sign(session_key(), "oidc:" + body)):
        return None
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    age = (now if now is not None else time.time()) - int(data["t"])
    if not 0 <= age <= FLOW_SECONDS:
        return None
    return Flow(state=str(data["s"]), nonce=str(data["n"]), next=safe_next(str(data["x"])))


def _redirect_uri() -> str:
    return (get_settings().public_url or "").rstrip("/") + CALLBACK_PATH


def _problem(request: Request, message: str, *, status: int) -> HTMLResponse:
    page = render(
        "auth_problem.html",
        title="Not signed in",
        message=message,
        keepers=[],
        csrf=csrf_token(request),
    )
    response = HTMLResponse(page, status_code=status)
    response.delete_cookie(FLOW_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def _configured(request: Request) -> SlackSignIn | HTMLResponse:
    config = sign_in_from_settings(get_settings())
    if config is None:
        return _problem(
            request,
            "Sign in with Slack is not set up here (LAUNCHDECK_SLACK_CLIENT_ID, LAUNCHDECK_SLACK_CLIENT_SECRET and "
            "LAUNCHDECK_PUBLIC_URL); sign in with an API token instead.",
            status=404,
        )
    return config


@router.get("/auth/slack")
def slack_start(request: Request, next: str | None = None) -> Response:
    config = _configured(request)
    if isinstance(config, HTMLResponse):
        return config
    flow = Flow(state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24), next=safe_next(next))
    response = RedirectResponse(
        config.authorize_url(redirect_uri=_redirect_uri(), state=flow.state, nonce=flow.nonce), status_code=303
    )
    set_cookie(request, response, FLOW_COOKIE, issue_flow(flow), max_age=FLOW_SECONDS)
    return response


@router.get(CALLBACK_PATH)
def slack_callback(
    request: Request,
    session: SessionDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
) -> Response:
    config = _configured(request)
    if isinstance(config, HTMLResponse):
        return config
    flow = read_flow(request.cookies.get(FLOW_COOKIE, ""))
    if error:
        return _problem(request, f"Slack did not sign you in ({error[:60]}). {START_AGAIN}", status=400)
    if flow is None or not state or not same(state, flow.state):
        message = (
            "This answer from Slack does not match a sign-in started in this browser in the last 10 minutes. "
            + START_AGAIN
        )
        return _problem(request, message, status=400)
    if not code:
        return _problem(request, f"Slack sent no sign-in code. {START_AGAIN}", status=400)
    try:
        identity = config.identity(code=code, redirect_uri=_redirect_uri(), nonce=flow.nonce)
    except SignInFailed as exc:
        return _problem(request, str(exc.message)[:1].upper() + str(exc.message)[1:] + ".", status=400)
    member = member_for_identity(session=session, identity=identity)
    if member is None:
        return _unknown(request, session, identity)
    response = signed_in(request, member_principal(member), flow.next)
    response.delete_cookie(FLOW_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def _unknown(request: Request, session: SessionDep, identity: SlackIdentity) -> HTMLResponse:
    who = identity.email or identity.name or identity.slack_user_id
    message = (
        f"Slack says you are {who} (Slack user {identity.slack_user_id}), but you are not in launchdeck's "
        "directory, so you are not signed in. Product ops or an admin can add you as a member with your "
        "Slack user id or email."
    )
    page = render(
        "auth_problem.html",
        title="Not in launchdeck's directory",
        message=message,
        keepers=directory_keepers(session=session),
        csrf=csrf_token(request),
    )
    response = HTMLResponse(page, status_code=403)
    response.delete_cookie(FLOW_COOKIE, path="/", httponly=True, samesite="lax")
    return response
