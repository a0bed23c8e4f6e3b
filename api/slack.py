"""Slack's HTTP endpoints: interactivity (buttons, overflow menus, modals), the ``/launch``
slash command and the Events API (``url_verification``, ``app_home_opened`` for the App Home).

Order of work in every endpoint, and why:

1. Read the raw body, and verify Slack's v0 signature over exactly those bytes with
   ``LAUNCHDECK_SLACK_SIGNING_SECRET``, *before* anything is parsed: a forged or replayed request
   (401) never reaches a parser or a service. Without a secret nothing can be verified, so the
   endpoints answer 503 naming the variable to set instead of trusting anyone.
2. Parse into a typed request (``notifications.inbound.parsing``); a body we did not render is a 400.
3. Record, then answer within Slack's three seconds (issues #6 and #18). Clicks
   (``block_actions``: the Done button, an overflow choice) are written to the
   ``slackinteraction`` table in one short INSERT and answered with an empty 200 right here
   (Slack ignores the body of that answer anyway); their work (the check-off, then the ephemeral
   refusal or "already done" to ``response_url``, or ``views.open`` for the overflow's modal) is
   applied from that row by the app's ``SlackWork`` processors, exactly once, even if this
   process dies first (api/slack_work.py). Modal submissions, the feedback shortcut and slash
   commands are answered inline: a submission's validation errors must come back in the answer
   (``response_action: errors``), so its one short transaction runs in a worker thread before
   answering, its record written in that same commit; only the Slack calls come after.

These routes are outside ``/api/v1`` (Slack is configured with their URLs in the manifest) and
outside the OpenAPI schema: they are Slack's protocol, not launchdeck's API. This module may not
import slack_sdk (tests/architecture/test_import_direction.py); everything Slack-shaped lives in notifications/.
"""

import logging
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import get_engine
from api.problems import problem
from api.slack_recording import ClickRecorder
from api.slack_work import FollowUps, SlackWork
from notifications.delivery.factory import transport_from_settings
from notifications.delivery.transport import ViewPublisher
from notifications.inbound.commands import handle_command
from notifications.inbound.follow_ups import (
    DirectMessenger,
    Responder,
    ViewOpener,
    WebhookResponder,
    follow_up_calls,
    messenger_from_settings,
    run_quietly,
    send_direct,
    view_opener_from_settings,
)
from notifications.inbound.home import HomeOpened, home_opened, open_home
from notifications.inbound.inbox import Record, answer_recorded, command_record, is_queued, record_of
from notifications.inbound.parsing import (
    MalformedPayload,
    command_form,
    interaction_payload,
    parse_command,
    parse_event,
    parse_payload,
)
from notifications.inbound.replies import Reply
from notifications.inbound.requests import Interaction
from notifications.inbound.routing import handle_interaction
from notifications.inbound.signing import BadSignature, verify_slack_request
from orchestrator.core.clock import utcnow
from orchestrator.core.settings import get_settings

log = logging.getLogger("launchdeck.api.slack")

router = APIRouter(prefix="/slack", tags=["slack"], include_in_schema=False)

Clock = Callable[[], float]


async def get_clock() -> Clock:
    """The clock the replay window is measured with (a dependency so tests can move it). Async,
    like the other dependencies here that do no I/O: FastAPI runs a plain ``def`` dependency in
    the thread pool, and under a burst of clicks each such hop waited on the busy event loop
    (BENCHMARKS.md, "Slack interaction acknowledgement latency")."""
    return time.time


async def get_view_opener(request: Request) -> ViewOpener:
    """How modals are opened: whatever the app was given, else the Slack transport from settings
    (made once per app), else a logger. Tests replace this with ``app.dependency_overrides``."""
    return _app_view_opener(request.app)


def _app_view_opener(app: FastAPI) -> ViewOpener:
    opener: ViewOpener | None = getattr(app.state, "slack_view_opener", None)
    if opener is None:
        opener = view_opener_from_settings(get_settings())
        app.state.slack_view_opener = opener
    return opener


def get_view_publisher(request: Request) -> ViewPublisher:
    """How App Homes are published (``views.publish``): the transport the settings choose (the
    Slack Web API with a bot token, else the console), made once per app. Tests replace this with
    ``app.dependency_overrides`` (the real Slack transport pointed at the fake Slack)."""
    publisher: ViewPublisher | None = getattr(request.app.state, "slack_view_publisher", None)
    if publisher is None:
        transport = transport_from_settings(get_settings(), engine=request.app.state.engine)
        publisher = transport if isinstance(transport, ViewPublisher) else UnwiredPublisher()
        request.app.state.slack_view_publisher = publisher
    return publisher


class UnwiredPublisher:
    """A transport that cannot publish views: says so in the log."""

    def publish_view(self, *, user_id: str, view: dict[str, Any]) -> None:
        log.warning("cannot publish the App Home of %s: the transport has no views.publish", user_id)


def _app_messenger(app: FastAPI) -> DirectMessenger | None:
    """The Slack transport DMs go through (made once per app); None without a bot token."""
    if not hasattr(app.state, "slack_messenger"):
        app.state.slack_messenger = messenger_from_settings(get_settings())
    messenger: DirectMessenger | None = app.state.slack_messenger
    return messenger


async def get_responder() -> Responder:
    """How follow-ups reach ``response_url``; replaced in tests."""
    return WebhookResponder()


def follow_ups_for(app: FastAPI) -> FollowUps:
    """The Slack adapters the app's processors reply through: the endpoints' own, with the app's
    dependency overrides applied (which is how tests put their recorder in both places)."""

    def opener() -> ViewOpener:
        override = app.dependency_overrides.get(get_view_opener)
        return override() if override is not None else _app_view_opener(app)

    def responder() -> Responder:
        override = app.dependency_overrides.get(get_responder)
        return override() if override is not None else WebhookResponder()

    return FollowUps(opener, responder)


EngineDep = Annotated[Engine, Depends(get_engine)]
ClockDep = Annotated[Clock, Depends(get_clock)]
OpenerDep = Annotated[ViewOpener, Depends(get_view_opener)]
PublisherDep = Annotated[ViewPublisher, Depends(get_view_publisher)]
ResponderDep = Annotated[Responder, Depends(get_responder)]


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


def _answer(reply: Reply, tasks: BackgroundTasks, opener: ViewOpener, responder: Responder) -> Response:
    """Turn a decided ``Reply`` into the HTTP answer, queueing Slack calls for after it is sent."""
    for call in follow_up_calls(reply, opener=opener, responder=responder):
        tasks.add_task(call)
    body = reply.body()
    if body is None:
        return Response(status_code=200)
    return JSONResponse(body)


def _answered(engine: Engine, record: Record, work: Callable[[Session], Reply]) -> Callable[[], Reply]:
    """``work`` carried out before answering, with its record written (``answer_recorded``)."""

    def run() -> Reply:
        with Session(engine, expire_on_commit=False) as session:
            return answer_recorded(session, record, work, now=utcnow())

    return run


async def _record_pending(request: Request, record: Record) -> Response | None:
    """The INSERT in front of a click's acknowledgement, on the event loop's own engine (no thread
    hop), shared with the clicks arriving at the same time (api/slack_recording.py). None when
    recorded, else the 503 to answer (Slack then shows the person an error, rightly: nothing was
    recorded, so nothing will be applied)."""
    recorder: ClickRecorder = request.app.state.slack_recorder
    try:
        await recorder.record(record.row(now=utcnow()))
    except SQLAlchemyError as error:
        log.error("could not record a Slack click: %s", error)
        return problem(503, "the click could not be recorded (database unavailable); click again", code="not_recorded")
    work: SlackWork | None = getattr(request.app.state, "slack_work", None)
    if work is not None:
        work.wake()
    return None


@router.post("/interactions")
async def interactions(request: Request, clock: ClockDep) -> Response:
    """Buttons, overflow choices and modal submissions. A click is recorded and acknowledged with
    an empty 200 at once, and applied from its record afterwards; its effect shows in the updated
    message, and refusals reach the person as ephemeral text through ``response_url``. A modal
    submission is carried out (and recorded) before answering, so its errors can keep the modal open.

    Only the clock is a dependency: the engine and the Slack adapters only the inline path uses
    are looked up there (``_answer_inline``), not resolved for every click of a burst."""
    verified = await _verified_body(request, clock)
    if isinstance(verified, Response):
        return verified
    try:
        payload = interaction_payload(verified)
        interaction = parse_payload(payload)
        record = record_of(payload, interaction)
    except MalformedPayload as error:
        return _malformed(error)
    if is_queued(interaction):
        return await _record_pending(request, record) or Response(status_code=200)
    return await _answer_inline(request.app, record, interaction)


async def _answer_inline(app: FastAPI, record: Record, interaction: Interaction) -> Response:
    """A modal submission or shortcut: carried out and recorded before answering, its Slack calls
    queued for after the answer, through the app's adapters (``follow_ups_for``: tests' overrides
    of ``get_view_opener`` and ``get_responder`` apply here too)."""
    engine: Engine = app.state.engine
    reply = await run_in_threadpool(
        _answered(engine, record, lambda session: handle_interaction(session=session, interaction=interaction))
    )
    adapters, tasks = follow_ups_for(app), BackgroundTasks()
    response = _answer(reply, tasks, adapters.opener(), adapters.responder())
    response.background = tasks
    return response


@router.post("/commands")
async def commands(
    request: Request, tasks: BackgroundTasks, engine: EngineDep, clock: ClockDep, opener: OpenerDep
) -> Response:
    """``/launch status <slug> | mine | help``, answered ephemerally in the acknowledgement;
    ``/launch feedback`` opens the feedback modal after the acknowledgement; ``/launch login``
    DMs a sign-in link after it."""
    verified = await _verified_body(request, clock)
    if isinstance(verified, Response):
        return verified
    try:
        command = parse_command(verified)
    except MalformedPayload as error:
        return _malformed(error)
    record = command_record(command_form(verified), command)
    reply = await run_in_threadpool(
        _answered(engine, record, lambda session: handle_command(session=session, command=command))
    )
    if reply.direct is not None:  # ``/launch login``: its link, posted once after the answer
        direct, messenger = reply.direct, _app_messenger(request.app)
        tasks.add_task(run_quietly, lambda: send_direct(messenger, direct), what="chat.postMessage (DM)")
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
async def events(
    request: Request, tasks: BackgroundTasks, engine: EngineDep, clock: ClockDep, publisher: PublisherDep
) -> Response:
    """Events API: answers ``url_verification`` with its challenge; ``app_home_opened`` (the Home
    tab) is acknowledged at once and the person's Home published after the answer; anything else
    is acknowledged (Slack retries what is not)."""
    verified = await _verified_body(request, clock)
    if isinstance(verified, Response):
        return verified
    try:
        event = parse_event(verified)
        opened = home_opened(verified) if event.type == "event_callback" else None
    except MalformedPayload as error:
        return _malformed(error)
    if event.type == "url_verification":
        if not event.challenge:
            return _malformed(MalformedPayload("url_verification without a challenge"))
        return PlainTextResponse(event.challenge)
    if opened is not None:
        tasks.add_task(run_quietly, _open_home(engine, opened, publisher), what=f"views.publish {opened.slack_user_id}")
    return Response(status_code=200)


def _open_home(engine: Engine, opened: HomeOpened, publisher: ViewPublisher) -> Callable[[], None]:
    def run() -> None:
        with Session(engine, expire_on_commit=False) as session:
            open_home(session, opened, publisher=publisher)

    return run
