"""The dashboard's browsing pages: the portfolio with its tabs (active, completed, all), search
and pages, and a launch's whole audit timeline in sentences, fifty a page.

The reads live in the core (``orchestrator.reporting.portfolio_search``, ``audit_timeline``);
these routes parse nothing themselves beyond handing the raw query text over, and answer bad
input with the page and a 422 saying which field and what to type, never a 500."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SessionDep
from api.pages import render
from api.web_security import SecureRoute, csrf_token
from api.web_session import DASHBOARD_PREFIX, PagePrincipal
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.reporting.audit_timeline import launch_audit
from orchestrator.reporting.portfolio_search import (
    SEARCH_MAX,
    PortfolioQuery,
    Show,
    page_number,
    parse_query,
    portfolio_view,
)
from orchestrator.reporting.rag import Rag

router = APIRouter(include_in_schema=False, route_class=SecureRoute)  # CSRF checks and security headers


def portfolio_link(show: Show, q: str | None, page: int = 1) -> str:
    """The portfolio's address for a tab, a search and a page (defaults left out)."""
    params = {"show": show.value} if show != Show.ACTIVE else {}
    if q:
        params["q"] = q
    if page > 1:
        params["page"] = str(page)
    return DASHBOARD_PREFIX + "/" + ("?" + urlencode(params) if params else "")


@router.get(DASHBOARD_PREFIX + "/")
def portfolio_page(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    show: str | None = None,
    q: str | None = None,
    page: str | None = None,
) -> HTMLResponse:
    """Active launches red first (the default), completed ones, or all; ``q`` searches slug, name
    and owner; fifty a page."""
    context = {
        "principal": principal,
        "csrf": csrf_token(request),
        "Rag": Rag,
        "Show": Show,
        "link": portfolio_link,
        "search_max": SEARCH_MAX,
    }
    try:
        query = parse_query(show=show, q=q, page=page)
    except InvalidInput as exc:
        shown = PortfolioQuery(show=Show(show) if show in {tab.value for tab in Show} else Show.ACTIVE)
        return HTMLResponse(
            render("portfolio.html", view=None, query=shown, typed=(q or "")[: SEARCH_MAX * 2], problem=exc, **context),
            status_code=422,
        )
    now = utcnow()
    if query.is_default:
        view = request.app.state.portfolio_cache.get(
            session=session,
            now=now,
            page=query.page,
            compute=lambda: portfolio_view(session=session, now=now, query=query),
        )
    else:
        view = portfolio_view(session=session, now=now, query=query)
    session.commit()
    return HTMLResponse(render("portfolio.html", view=view, query=query, typed=query.q or "", problem=None, **context))


@router.get(DASHBOARD_PREFIX + "/launches/{slug}/audit")
def audit_page(
    slug: str, request: Request, principal: PagePrincipal, session: SessionDep, page: str | None = None
) -> HTMLResponse:
    """Everything recorded about a launch, newest first, fifty a page, in sentences (a page that
    is not a number shows the first, with a 422 saying why)."""
    problem: InvalidInput | None = None
    try:
        number = page_number(page)
    except InvalidInput as exc:
        number, problem = 1, exc
    try:
        data = launch_audit(session=session, slug=slug, page=number)
    except NotFound as exc:
        session.rollback()
        return HTMLResponse(
            render("not_found.html", message=str(exc.message), principal=principal, csrf=csrf_token(request)),
            status_code=404,
        )
    session.commit()
    return HTMLResponse(
        render("audit.html", data=data, problem=problem, principal=principal, csrf=csrf_token(request)),
        status_code=422 if problem else 200,
    )
