"""The planning pages of the dashboard: a launch's rollout timeline, every active launch on one
timeline, the GTM load (team x week against capacity) with each cell's items, and the collisions
ahead. Reads only (the core's ``orchestrator.planning``; the timelines and collisions from the
planning snapshot the app keeps until the next recorded change, ``api/planning_cache.py``),
server-drawn SVG beside tables, no JavaScript; bad input (a page or a week count that is not one)
answers the page with a 422 saying what to type, an unknown launch or team a 404 page."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from api.deps import SessionDep
from api.pages import render
from api.timeline_chart import axis_chart, launch_chart, summary_chart
from api.web_security import SecureRoute, csrf_token
from api.web_session import DASHBOARD_PREFIX, PagePrincipal
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.settings import get_settings
from orchestrator.directory.tokens import Principal
from orchestrator.planning.collisions import CollisionKind
from orchestrator.planning.conflicts import portfolio_collisions
from orchestrator.planning.load import DEFAULT_WEEKS, check_weeks, gtm_load, parse_week, team_week_items
from orchestrator.planning.timeline import PER_PAGE, launch_timeline, portfolio_timeline
from orchestrator.reporting.portfolio_search import page_number

router = APIRouter(include_in_schema=False, route_class=SecureRoute)  # CSRF checks and security headers
COLLISIONS_PER_PAGE = 50


def _page(request: Request, principal: Principal, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    html = render(template, principal=principal, csrf=csrf_token(request), **context)
    return HTMLResponse(html, status_code=status)


def _not_found(request: Request, session: Session, principal: Principal, exc: NotFound) -> HTMLResponse:
    session.rollback()
    return _page(request, principal, "not_found.html", status=404, message=exc.message)


def _number(raw: str | None) -> tuple[int, InvalidInput | None]:
    """A page number as typed; a bad one shows the first page, with the problem (422)."""
    try:
        return page_number(raw), None
    except InvalidInput as exc:
        return 1, exc


@router.get(DASHBOARD_PREFIX + "/launches/{slug}/timeline")
def launch_timeline_page(slug: str, request: Request, principal: PagePrincipal, session: SessionDep) -> HTMLResponse:
    now = utcnow()
    try:
        snapshot = request.app.state.planning_cache.get(session=session, now=now)
        timeline = launch_timeline(session=session, slug=slug, now=now, snapshot=snapshot)
    except NotFound as exc:
        return _not_found(request, session, principal, exc)
    session.commit()  # end the read
    chart = launch_chart(timeline.lane, timeline.axis)
    window = get_settings().collision_window_days
    return _page(request, principal, "timeline.html", t=timeline, chart=chart, window_days=window)


@router.get(DASHBOARD_PREFIX + "/timeline")
def portfolio_timeline_page(
    request: Request, principal: PagePrincipal, session: SessionDep, page: str | None = None
) -> HTMLResponse:
    """Every active launch on one axis, twenty a page; each row opens to its regions."""
    number, problem = _number(page)
    now = utcnow()
    snapshot = request.app.state.planning_cache.get(session=session, now=now)
    view = portfolio_timeline(session=session, now=now, page=number, snapshot=snapshot)
    session.commit()
    summaries = {lane.slug: summary_chart(lane, view.axis) for lane in view.lanes}
    details = {lane.slug: launch_chart(lane, view.axis, labelled=False) for lane in view.lanes}
    return _page(
        request,
        principal,
        "timeline_portfolio.html",
        status=422 if problem else 200,
        view=view,
        per_page=PER_PAGE,
        axis_chart=axis_chart(view.axis),
        summaries=summaries,
        details=details,
    )


@router.get(DASHBOARD_PREFIX + "/load")
def load_page(
    request: Request, principal: PagePrincipal, session: SessionDep, weeks: str | None = None
) -> HTMLResponse:
    """Team x week of open items against capacity; ``?weeks=N`` (1-26, default 8)."""
    problem = None
    count = DEFAULT_WEEKS
    if weeks is not None and weeks.strip():
        try:
            text = weeks.strip()
            if not (text.isascii() and text.isdigit()):
                raise InvalidInput("weeks", f"{text[:20]!r} is not a number of weeks; use a whole number from 1 to 26")
            count = check_weeks(int(text))
        except InvalidInput as exc:
            problem = exc.message
    view = gtm_load(session=session, now=utcnow(), weeks=count)
    session.commit()
    return _page(request, principal, "load.html", status=422 if problem else 200, view=view, problem=problem)


@router.get(DASHBOARD_PREFIX + "/load/{team}/{week}")
def team_week_page(
    team: str, week: str, request: Request, principal: PagePrincipal, session: SessionDep
) -> HTMLResponse:
    """One cell of the load: the team's open items due that week (or ``overdue``)."""
    try:
        found = team_week_items(session=session, team=team, week=parse_week(week), now=utcnow())
    except InvalidInput as exc:
        session.rollback()
        return _page(request, principal, "not_found.html", status=422, message=exc.message)
    except NotFound as exc:
        return _not_found(request, session, principal, exc)
    session.commit()
    return _page(request, principal, "load_items.html", found=found)


@router.get(DASHBOARD_PREFIX + "/collisions")
def collisions_page(
    request: Request, principal: PagePrincipal, session: SessionDep, page: str | None = None
) -> HTMLResponse:
    """The collisions ahead, soonest first, fifty a page."""
    number, problem = _number(page)
    now = utcnow()
    snapshot = request.app.state.planning_cache.get(session=session, now=now)
    report = portfolio_collisions(session=session, now=now, snapshot=snapshot)
    session.commit()
    total = len(report.collisions)
    pages = max(1, -(-total // COLLISIONS_PER_PAGE))
    number = min(number, pages)
    first = (number - 1) * COLLISIONS_PER_PAGE
    shown = report.collisions[first : first + COLLISIONS_PER_PAGE]
    return _page(
        request,
        principal,
        "collisions.html",
        status=422 if problem else 200,
        report=report,
        kinds=list(CollisionKind),
        shown=shown,
        page=number,
        pages=pages,
        first=first + 1,
        last=first + len(shown),
    )
