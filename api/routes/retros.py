"""The post-launch retro of a launch: JSON and Markdown under /api/v1 (every role), and the
dashboard's page and Markdown download. Produced on demand for any launch (a launch not completed
shows its figures so far); the region flow that completes a launch also leaves it in Prefect."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import SessionDep, allow
from api.pages import render
from api.problems import ERROR_RESPONSES
from api.schemas.retros import RetroOut
from api.web_security import SecureRoute, csrf_token
from api.web_session import DASHBOARD_PREFIX, PagePrincipal
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import NotFound
from orchestrator.core.policy import READERS
from orchestrator.retros.markdown import duration_words, last_closed_words, retro_markdown
from orchestrator.retros.retro import launch_retro

router = APIRouter(responses=ERROR_RESPONSES, prefix="/launches", tags=["retros"])
pages = APIRouter(include_in_schema=False, route_class=SecureRoute)  # CSRF checks and security headers

MARKDOWN = "text/markdown; charset=utf-8"


@router.get("/{slug}/retro", response_model=RetroOut, dependencies=[Depends(allow(READERS))])
def read_retro(slug: str, session: SessionDep) -> RetroOut:
    """Per region, the time at each gate (and the gate that passed last) and in each ramp; per
    passed checklist gate, the team that closed its last blocking item (the bottleneck); slips with
    their reasons; waivers and conditional Gos with their conditions; overdue items per team; each
    recorded forecast against the day its checklist passed; beta feedback volume and time to fix
    severity 1. Durations in seconds."""
    retro = launch_retro(session=session, slug=slug, now=utcnow())
    session.commit()
    return RetroOut.of(retro)


@router.get(
    "/{slug}/retro.md",
    response_class=Response,
    dependencies=[Depends(allow(READERS))],
    responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}, "description": "The retro."}},
)
def retro_md(slug: str, session: SessionDep) -> Response:
    """The same retro as Markdown tables, as the CLI's `launch retro --markdown` prints it."""
    retro = launch_retro(session=session, slug=slug, now=utcnow())
    session.commit()
    return Response(retro_markdown(retro), media_type=MARKDOWN)


@pages.get(DASHBOARD_PREFIX + "/launches/{slug}/retro", name="retro_page")
def retro_page(slug: str, request: Request, principal: PagePrincipal, session: SessionDep) -> HTMLResponse:
    try:
        retro = launch_retro(session=session, slug=slug, now=utcnow())
    except NotFound as exc:
        session.rollback()
        page_404 = render("not_found.html", message=str(exc.message), principal=principal, csrf=csrf_token(request))
        return HTMLResponse(page_404, status_code=404)
    session.commit()
    html = render(
        "retro.html",
        retro=retro,
        principal=principal,
        csrf=csrf_token(request),
        duration=duration_words,
        last_closed=last_closed_words,
    )
    return HTMLResponse(html)


@pages.get(DASHBOARD_PREFIX + "/launches/{slug}/retro.md")
def retro_download(slug: str, principal: PagePrincipal, session: SessionDep) -> Response:
    try:
        retro = launch_retro(session=session, slug=slug, now=utcnow())
    except NotFound as exc:
        session.rollback()
        return Response(str(exc.message) + "\n", status_code=404, media_type="text/plain; charset=utf-8")
    session.commit()
    return Response(
        retro_markdown(retro),
        media_type=MARKDOWN,
        headers={"Content-Disposition": f'attachment; filename="{slug}-retro.md"'},
    )
