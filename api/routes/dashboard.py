"""The leadership dashboard: read-only pages behind a sign-in (``signin``: an API token or a
one-time link; ``slack_signin``: Sign in with Slack), so a Slack link opens them.

Pages: the portfolio (every active launch), one launch (region x phase matrix, readiness per
team, blockers, decisions, audit timeline, burndown), and, without Slack, the messages the console
transport showed in its place (linked from the navigation only then). Exports: the launch's items as CSV and its
phase dates as an iCalendar feed. Nothing here writes to the database.
"""

import csv
import io
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import SessionDep
from api.ical import PhaseEvent, calendar
from api.pages import render
from api.routes import signin, slack_signin
from api.web_security import SecureRoute, csrf_token
from api.web_session import (
    DASHBOARD_PREFIX,
    NeedsLogin,
    PagePrincipal,
    feed_key,
    page_principal,
    principal_of,
    read_feed_key,
    subject_of,
)
from notifications.delivery.console_store import KEEP, console_messages
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import NotFound, Unauthenticated
from orchestrator.forecasts.view import page_forecast
from orchestrator.reporting.launch_page import LaunchPage, launch_page
from orchestrator.reporting.rag import Rag

router = APIRouter(include_in_schema=False, route_class=SecureRoute)  # CSRF checks and security headers
router.include_router(signin.router)
router.include_router(slack_signin.router)
MESSAGES_PER_PAGE = 50


@router.get(DASHBOARD_PREFIX)
def dashboard_root() -> RedirectResponse:
    return RedirectResponse(DASHBOARD_PREFIX + "/", status_code=307)


# The portfolio (``/dashboard/``) and a launch's audit pages are in api/routes/console.py.


@router.get(DASHBOARD_PREFIX + "/launches/{slug}")
def launch_view(
    slug: str, request: Request, principal: PagePrincipal, session: SessionDep, region: str | None = None
) -> HTMLResponse:
    """One launch; ``?region=EU`` narrows its ranked beta feedback (an unknown region still shows
    the page, with every region's feedback and a 422 status saying why)."""
    try:
        page = launch_page(
            session=session, slug=slug, now=utcnow(), feedback_region=region.strip() or None if region else None
        )
    except NotFound as exc:
        session.rollback()
        page_404 = render("not_found.html", message=str(exc.message), principal=principal, csrf=csrf_token(request))
        return HTMLResponse(page_404, status_code=404)
    forecast = page_forecast(session=session, launch=page.launch, charts=page.burndowns, now=page.generated_at)
    key = feed_key(subject_of(principal), slug)
    feed = str(request.url_for("phases_feed", slug=slug).include_query_params(feed=key))
    context = {"feed_url": feed, "Rag": Rag, "csrf": csrf_token(request), "forecast": forecast}
    return HTMLResponse(
        render("launch.html", page=page, principal=principal, **context),
        status_code=422 if page.feedback_problem else 200,
    )


@router.get(DASHBOARD_PREFIX + "/messages")
def messages_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    page: Annotated[int, Query(ge=1, description="Page of 50, newest first.")] = 1,
) -> HTMLResponse:
    """What the console transport showed instead of posting to Slack, newest activity first."""
    data = console_messages(session=session, page=page, per_page=MESSAGES_PER_PAGE)
    session.commit()
    page_html = render("messages.html", data=data, principal=principal, keep=KEEP, csrf=csrf_token(request))
    return HTMLResponse(page_html)  # text anyone could have typed: inert under the router's CSP


@router.get(DASHBOARD_PREFIX + "/launches/{slug}/items.csv")
def items_csv(slug: str, principal: PagePrincipal, session: SessionDep) -> Response:
    now = utcnow()
    try:
        page = launch_page(session=session, slug=slug, now=now)
    except NotFound as exc:
        session.rollback()
        return Response(str(exc.message) + "\n", status_code=404, media_type="text/plain; charset=utf-8")
    return Response(
        items_csv_text(page, now),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}-items.csv"'},
    )


@router.get(DASHBOARD_PREFIX + "/launches/{slug}/phases.ics", name="phases_feed")
def phases_feed(slug: str, request: Request, session: SessionDep, feed: str | None = None) -> Response:
    """The launch's phase dates for calendar apps. A browser signed in sends its cookie; a
    calendar client sends the ``feed`` key shown on the launch page (bound to the token or member
    and the launch, so revoking the token or removing the member ends the subscription)."""
    if feed is None:
        page_principal(request, session)  # redirects to /login without a session
    else:
        subject = read_feed_key(feed, slug)
        try:
            if subject is None:
                raise Unauthenticated("the feed key is not valid for this launch; copy the link from the launch page")
            principal_of(session, subject)
        except Unauthenticated as exc:
            return Response(str(exc.message) + "\n", status_code=401, media_type="text/plain; charset=utf-8")
    now = utcnow()
    try:
        page = launch_page(session=session, slug=slug, now=now)
    except NotFound as exc:
        session.rollback()
        return Response(str(exc.message) + "\n", status_code=404, media_type="text/plain; charset=utf-8")
    page_url = str(request.url_for("launch_view", slug=slug))
    events = [
        PhaseEvent(
            slug=slug,
            launch_name=page.launch.name,
            region=row.code,
            phase=cell.phase.value,
            at=cell.current_at,
            baseline_at=cell.baseline_at or cell.current_at,
            status=cell.status,
            url=page_url,
        )
        for row in page.matrix
        for cell in row.cells
        if cell.current_at is not None
    ]
    return Response(
        calendar(name=f"{page.launch.name} phases", events=events, now=now),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="{slug}-phases.ics"'},
    )


CSV_COLUMNS = (
    "id",
    "region",
    "phase",
    "key",
    "title",
    "team",
    "assignee",
    "blocking",
    "status",
    "due_at",
    "days_late",
    "evidence_url",
    "blocked_reason",
    "checked_by",
    "checked_at",
)


def items_csv_text(page: LaunchPage, now: datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in page.items:
        late = item.days_late(now)
        writer.writerow(
            [
                item.id,
                item.region,
                item.phase.value,
                _cell(item.key),
                _cell(item.title),
                _cell(item.team),
                _cell(item.assignee or ""),
                "yes" if item.blocking else "no",
                item.status.value,
                item.due_at.isoformat() if item.due_at else "",
                "" if late is None else late,
                _cell(item.evidence_url or ""),
                _cell(item.blocked_reason or ""),
                _cell(item.checked_by or ""),
                item.checked_at.isoformat() if item.checked_at else "",
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell starting with = + - @ is text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def needs_login_redirect(_request: Request, exc: Exception) -> RedirectResponse:
    assert isinstance(exc, NeedsLogin)
    return RedirectResponse(exc.location, status_code=303)
