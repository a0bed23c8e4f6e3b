"""Slack's HTTP endpoints: interactivity (buttons, overflow menus, modals), the ``/launch``
slash command and the Events API (``url_verification``).

Order of work in every endpoint, and why:

1. Read the raw body, and verify Slack's v0 signature over exactly those bytes with
   ``LAUNCHDECK_SLACK_SIGNING_SECRET``, *before* anything is parsed: a forged or replayed request
   (401) never reaches a parser or a service. Without a secret nothing can be verified, so the
   endpoints answer 503 naming the variable to set instead of trusting anyone.
2. Parse into a typed request (``notifications.inbound.parsing``); a body we did not render is a 400.
3. Answer within Slack's three seconds (issue #6). Clicks (``block_actions``: the Done button, an
   overflow choice) are answered with an empty 200 right here, because Slack ignores the body of
   that answer anyway: their work (the check-off transaction, then the ephemeral refusal or
   "already done" to ``response_url``, or ``views.open`` for the overflow's modal) is handed to the
   app's ``SlackWork`` threads (api/slack_work.py says why those and what a crash can lose). Modal
   submissions stay synchronous: their validation errors must come back in the answer
   (``response_action: errors``), so their one short transaction runs in a worker thread before
   answering and only their Slack calls come after. Slash commands answer in the body too.

These routes are outside ``/api/v1`` (Slack is configured with their URLs in the manifest) and
outside the OpenAPI schema: they are Slack's protocol, not launchdeck's API. This module may not
import slack_sdk (tests/architecture/test_import_direction.py); everything Slack-shaped lives in notifications/.
"""

import logging
import time
from collections.abc import Callable
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import get_engine
from api.problems import problem
from notifications.inbound.commands import handle_command
from notifications.inbound.follow_ups import (
    Responder,
    ViewOpener,
    WebhookResponder,
    run_quietly,
    view_opener_from_settings,
)
from notifications.inbound.parsing import MalformedPayload, parse_command, parse_event, parse_interaction
from notifications.inbound.replies import Reply
from notifications.inbound.requests import DoneClick, Interaction, OverflowChoice
from notifications.inbound.routing import handle_interaction
from notifications.inbound.signing import BadSignature, verify_slack_request
from orchestrator.core.settings import get_settings

log = logging.getLogger("launchdeck.api.slack")

router = APIRouter(prefix="/slack", tags=["slack"], include_in_schema=False)

Clock = Callable[[], float]


def get_clock() -> Clock:
    """The clock the replay window is measured with (a dependency so tests can move it)."""
    return time.time


def get_view_opener(request: Request) -> ViewOpener:
    """How modals are opened: whatever the app was given, else the Slack transport from settings
    (made once per app), else a logger. Tests replace this with ``app.dependency_overrides``."""
    opener: ViewOpener | None = getattr(request.app.state, "slack_view_opener", None)
    if opener is None:
        opener = view_opener_from_settings(get_settings())
        request.app.state.slack_view_opener = opener
    return opener


def get_responder() -> Responder:
    """How follow-ups reach ``response_url``; replaced in tests."""
    return WebhookResponder()


class Deferrer(Protocol):
    """Takes a click's work to run after the acknowledgement; False means "do it yourself now"."""

    def defer(self, job: Callable[[], None], *, key: int, urgent: bool = False) -> bool: ...


def get_deferrer(request: Request) -> Deferrer | None:
    """The app's ``SlackWork`` (started in its lifespan); None when the app runs without one, and
    then clicks are carried out before answering."""
    deferrer: Deferrer | None = getattr(request.app.state, "slack_work", None)
    return deferrer


EngineDep = Annotated[Engine, Depends(get_engine)]
ClockDep = Annotated[Clock, Depends(get_clock)]
OpenerDep = Annotated[ViewOpener, Depends(get_view_opener)]
ResponderDep = Annotated[Responder, Depends(get_responder)]
DeferrerDep = Annotated[Deferrer | None, Depends(get_deferrer)]


async def _verified_body(request: Request, clock: Clock) -> bytes | JSONResponse:
    """The raw body if Slack signed it; otherwise the problem to answer (503 or 401)."""
    secret = get_settings().slack_signing_secret
    if secret is None or not secret.get_secret_value():
        return problem(
            503,
            "Slack requests cannot be verified: set LAUNCHDECK_SLACK_SIGNING_SECRET to the app's signing secret "
            "(Slack app settings > Basic Information > Signing Secret)",
            code="slack_not_configured",
        )
    body = await request.body()
    try:
        verify_slack_request(
            secret=secret.get_secret_value(),
            body=body,
            timestamp=request.headers.get("x-slack-request-timestamp"),
            signature=request.headers.get("x-slack-signature"),
            now=clock(),
        )
    except BadSignature as error:
        log.warning("refused a Slack request to %s: %s", request.url.path, error.reason)
        return problem(401, error.message, code=error.code)
    return body


def _malformed(error: MalformedPayload) -> JSONResponse:
    return problem(400, f"not a Slack request this endpoint understands: {error.message}", code=error.code)


def _follow_ups(reply: Reply, opener: ViewOpener, responder: Responder) -> list[Callable[[], None]]:
    """The Slack calls a decided ``Reply`` needs, each already wrapped so a failure is only logged."""
    calls: list[Callable[[], None]] = []
    if reply.view is not None:
        pending = reply.view
        what = f"views.open {pending.view.get('callback_id')}"
        calls.append(
            lambda: run_quietly(lambda: opener.open_view(trigger_id=pending.trigger_id, view=pending.view), what=what)
        )
    if reply.text is not None and reply.response_url:
        url, text = reply.response_url, reply.text
        calls.append(lambda: run_quietly(lambda: responder.respond(response_url=url, text=text), what="response_url"))
    return calls


def _answer(reply: Reply, tasks: BackgroundTasks, opener: ViewOpener, responder: Responder) -> Response:
    """Turn a decided ``Reply`` into the HTTP answer, queueing Slack calls for after it is sent."""
    for call in _follow_ups(reply, opener, responder):
        tasks.add_task(call)
    body = reply.body()
    if body is None:
        return Response(status_code=200)
    return JSONResponse(body)


def _with_session(engine: Engine, work: Callable[[Session], Reply]) -> Callable[[], Reply]:
    def run() -> Reply:
        with Session(engine, expire_on_commit=False) as session:
            return work(session)

    return run


def _handle(engine: Engine, interaction: Interaction) -> Callable[[], Reply]:
    return _with_session(engine, lambda session: handle_interaction(session=session, interaction=interaction))


def _click_job(
    engine: Engine, click: DoneClick | OverflowChoice, opener: ViewOpener, responder: Responder
) -> Callable[[], None]:
    """A click's whole work after its acknowledgement: the transaction, then its Slack calls (the
    modal first: its trigger_id expires three seconds after the click)."""

    def run() -> None:
        reply = _handle(engine, click)()
        for call in _follow_ups(reply, opener, responder):
            call()

    return run


@router.post("/interactions")
async def interactions(
    request: Request,
    tasks: BackgroundTasks,
    engine: EngineDep,
    clock: ClockDep,
    opener: OpenerDep,
    responder: ResponderDep,
    deferrer: DeferrerDep,
) -> Response:
    """Buttons, overflow choices and modal submissions. A click is acknowledged with an empty 200
    at once and carried out afterwards; its effect shows in the updated message, and refusals
    reach the person as ephemeral text through ``response_url``. A modal submission is carried out
    before answering, so its errors can keep the modal open."""
    verified = await _verified_body(request, clock)
    if isinstance(verified, Response):
        return verified
    try:
        interaction = parse_interaction(verified)
    except MalformedPayload as error:
        return _malformed(error)
    click = isinstance(interaction, DoneClick | OverflowChoice)
    if (
        isinstance(interaction, DoneClick | OverflowChoice)
        and deferrer is not None
        and deferrer.defer(
            _click_job(engine, interaction, opener, responder),
            key=interaction.ref.item_id,
            urgent=isinstance(interaction, OverflowChoice),  # its trigger_id expires 3 s after the click
        )
    ):
        return Response(status_code=200)
    # A submission, or a click no worker could take (stopping, or full): slower, nothing lost.
    reply = await run_in_threadpool(_handle(engine, interaction))
    answer = _answer(reply, tasks, opener, responder)
    return Response(status_code=200) if click else answer  # a click's text went to response_url


@router.post("/commands")
async def commands(
    request: Request, tasks: BackgroundTasks, engine: EngineDep, clock: ClockDep, opener: OpenerDep
) -> Response:
    """``/launch status <slug> | mine | help``, answered ephemerally in the acknowledgement;
    ``/launch feedback`` opens the feedback modal after the acknowledgement."""
    verified = await _verified_body(request, clock)
    if isinstance(verified, Response):
        return verified
    try:
        command = parse_command(verified)
    except MalformedPayload as error:
        return _malformed(error)
    reply = await run_in_threadpool(
        _with_session(engine, lambda session: handle_command(session=session, command=command))
    )
    if reply.view is not None:
        pending = reply.view
        tasks.add_task(
            run_quietly,
            lambda: opener.open_view(trigger_id=pending.trigger_id, view=pending.view),
            what=f"views.open {pending.view.get('callback_id')}",
        )
        return Response(status_code=200)
    body: dict[str, Any] = reply.body() or {"response_type": "ephemeral", "text": ""}
    return JSONResponse(body)


@router.post("/events")
async def events(request: Request, clock: ClockDep) -> Response:
    """Events API: answers ``url_verification`` with its challenge and acknowledges the rest
    (launchdeck subscribes to no events yet; Slack retries anything not acknowledged)."""
    verified = await _verified_body(request, clock)
    if isinstance(verified, Response):
        return verified
    try:
        event = parse_event(verified)
    except MalformedPayload as error:
        return _malformed(error)
    if event.type == "url_verification":
        if not event.challenge:
            return _malformed(MalformedPayload("url_verification without a challenge"))
        return PlainTextResponse(event.challenge)
    return Response(status_code=200)
