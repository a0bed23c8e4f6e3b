"""The console's pages for everyone: **My work** (a member's open items with check off, block and
add evidence; an approver's pending votes with Go, Conditional Go and No-Go) and **What is
blocking** one region from one phase.

Every form posts to the same core service as the API (``items.service.check_item`` and
``block_item``, ``items.details.attach_evidence``, ``gates.approvals.cast_vote``) with the signed-in
person as the actor, never a name from the form; the services apply the access policy, so a refused
form is a 403 page saying why, bad input re-renders the page with the error beside its field (422),
and success redirects (303) to the page that shows the result."""

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep
from api.pages import render
from api.problems import STATUS_FOR
from api.schemas.common import MAX_DB_INT
from api.web_security import SecureRoute, csrf_token, form_fields
from api.web_session import DASHBOARD_PREFIX, PagePrincipal
from orchestrator.core.clock import day_or_moment, utcnow
from orchestrator.core.enums import Vote
from orchestrator.core.errors import InvalidInput, LaunchdeckError, NotFound
from orchestrator.directory.tokens import Principal
from orchestrator.gates.approvals import cast_vote
from orchestrator.items import details as item_details
from orchestrator.items import service as item_services
from orchestrator.reporting.blockers import blockers
from orchestrator.reporting.my_work import changed_item, gate_place, launch_region_phases, my_work

router = APIRouter(include_in_schema=False, route_class=SecureRoute)  # CSRF checks and security headers
MY_WORK = DASHBOARD_PREFIX + "/my-work"
ITEM_ACTIONS = ("check", "block", "evidence")
VOTE_WORDS = {Vote.GO: "Go", Vote.CONDITIONAL_GO: "Conditional Go", Vote.NO_GO: "No-Go"}
NEEDS_A_PERSON = (
    "My work is a person's list: your team's items and the votes waiting for you. You signed in with an "
    "API token that belongs to no member of the directory, so there is no one to list work for. "
    "Sign in with Slack (or with the link /launch login sends you) to see yours."
)


@dataclass(frozen=True)
class FormProblem:
    """Why a form was refused, shown beside the field of the form it came from (``form`` is
    ``item-12-block`` or ``gate-5-no_go``), with what the person typed kept."""

    form: str
    field: str
    message: str
    typed: dict[str, str]


def _status(exc: LaunchdeckError) -> int:
    return next((code for kind, code in STATUS_FOR if isinstance(exc, kind)), 400)


def _problem(form: str, exc: LaunchdeckError, typed: dict[str, str], default_field: str) -> FormProblem:
    field = exc.field if isinstance(exc, InvalidInput) else default_field
    message = exc.problem if isinstance(exc, InvalidInput) else exc.message
    return FormProblem(form=form, field=field, message=message, typed=typed)


def _my_work_page(
    request: Request,
    principal: Principal,
    session: Session,
    *,
    problem: FormProblem | None = None,
    status_code: int = 200,
    changed: str | None = None,
) -> HTMLResponse:
    now = utcnow()
    work = None
    if principal.member_id is not None:
        try:
            work = my_work(session=session, actor=principal.actor, now=now)
        except NotFound:
            work = None
    change = changed_item(session=session, item_id=int(changed)) if changed and changed.isdigit() else None
    session.commit()
    page = render(
        "my_work.html",
        work=work,
        needs_a_person=NEEDS_A_PERSON,
        problem=problem,
        changed=change,
        now=now,
        vote_words=VOTE_WORDS,
        principal=principal,
        csrf=csrf_token(request),
    )
    return HTMLResponse(page, status_code=status_code)


@router.get(MY_WORK)
def my_work_page(
    request: Request, principal: PagePrincipal, session: SessionDep, changed: str | None = None
) -> HTMLResponse:
    """The signed-in member's open items (their team's and those assigned to them), soonest due,
    and the votes waiting for them."""
    return _my_work_page(request, principal, session, changed=changed[:12] if changed else None)


def _version(fields: dict[str, str]) -> int | None:
    value = fields.get("version", "").strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


@router.post(MY_WORK + "/items/{item_id}/{action}")
def item_form(
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    action: str,
    item_id: int = Path(ge=1, le=MAX_DB_INT),
) -> Response:
    """Check off, block (with the reason) or add evidence (a link) to an item, through the item
    services the API calls; the policy there refuses another team's item."""
    if action not in ITEM_ACTIONS:
        not_found = render(
            "not_found.html", message=f"No such form: {action}", principal=principal, csrf=csrf_token(request)
        )
        return HTMLResponse(not_found, status_code=404)
    fields = form_fields(request)
    actor, version = principal.actor, _version(fields)
    try:
        if action == "check":
            item_services.check_item(
                session=session,
                item_id=item_id,
                actor=actor,
                evidence_url=fields.get("evidence_url", "").strip() or None,
                expected_version=version,
            )
        elif action == "block":
            item_services.block_item(
                session=session, item_id=item_id, actor=actor, reason=fields.get("reason", ""), expected_version=version
            )
        else:
            item_details.attach_evidence(
                session=session, item_id=item_id, url=fields.get("url", ""), actor=actor, expected_version=version
            )
    except LaunchdeckError as exc:
        session.rollback()
        default = {"check": "evidence_url", "block": "reason", "evidence": "url"}[action]
        problem = _problem(f"item-{item_id}-{action}", exc, fields, default)
        if problem.field == "evidence_url" and action == "evidence":
            problem = FormProblem(problem.form, "url", problem.message, fields)
        return _my_work_page(request, principal, session, problem=problem, status_code=_status(exc))
    return RedirectResponse(f"{MY_WORK}?changed={item_id}", status_code=303)


def _ballot(fields: dict[str, str]) -> tuple[Vote, dict[str, object]]:
    """The vote a form asks for and what it says; InvalidInput names the field to fix."""
    try:
        vote = Vote(fields.get("vote", ""))
    except ValueError:
        raise InvalidInput("vote", "choose Go, Conditional Go or No-Go") from None
    comment = fields.get("comment", "").strip() or None
    said: dict[str, object] = {"comment": comment}
    if vote == Vote.CONDITIONAL_GO:
        risk = fields.get("risk_accepted_by", "").strip()
        if risk and ("@" not in risk or " " in risk):
            raise InvalidInput("risk_accepted_by", f"{risk!r} is not an email; type who accepts the risk")
        said |= {"conditions": fields.get("conditions", "").strip() or None, "risk_accepted_by": risk or None}
    elif vote == Vote.NO_GO:
        if comment is None:
            raise InvalidInput("comment", "say why No-Go, so the launch's owner knows what to fix")
        typed = fields.get("reevaluate_on", "").strip()
        if not typed:
            raise InvalidInput("reevaluate_at", "pick the date the region will be looked at again")
        said["reevaluate_at"] = _reevaluation(typed)
    return vote, said


def _reevaluation(typed: str) -> date | datetime:
    """The date typed; a plain date is the start of that day in the gate's region (the vote service reads it)."""
    try:
        return day_or_moment(typed, field="reevaluate_at")
    except InvalidInput as exc:
        raise InvalidInput("reevaluate_at", exc.problem) from None


@router.post(MY_WORK + "/gates/{gate_id}/vote")
def vote_form(
    request: Request, principal: PagePrincipal, session: SessionDep, gate_id: int = Path(ge=1, le=MAX_DB_INT)
) -> Response:
    """Go, Conditional Go (conditions and who accepts the risk) or No-Go (why, and when to look
    again), cast as the signed-in person by the vote service the API and Slack use."""
    fields = form_fields(request)
    form = f"gate-{gate_id}-{fields.get('vote', 'go')}"
    try:
        vote, said = _ballot(fields)
        cast_vote(session=session, gate_id=gate_id, vote=vote, actor=principal.actor, **said)  # type: ignore[arg-type]
        slug, region, phase = gate_place(session=session, gate_id=gate_id)
        session.commit()
    except LaunchdeckError as exc:
        session.rollback()
        problem = _problem(form, exc, fields, "vote")
        return _my_work_page(request, principal, session, problem=problem, status_code=_status(exc))
    return RedirectResponse(blockers_link(slug, region, phase.value) + "#approval", status_code=303)


def blockers_link(slug: str, region: str, phase: str) -> str:
    return f"{DASHBOARD_PREFIX}/launches/{slug}/blockers?" + urlencode({"region": region, "phase": phase})


@router.get(DASHBOARD_PREFIX + "/launches/{slug}/blockers")
def blockers_page(
    slug: str,
    request: Request,
    principal: PagePrincipal,
    session: SessionDep,
    region: str | None = None,
    phase: str | None = None,
) -> HTMLResponse:
    """Everything that keeps a region from a phase, in one page. An unknown region or phase is a
    page saying which, with links to the launch's real ones (404 for a region, 422 for a phase)."""
    context = {"slug": slug, "principal": principal, "csrf": csrf_token(request), "link": blockers_link}
    try:
        choices = launch_region_phases(session=session, slug=slug)
    except NotFound as exc:
        session.rollback()
        return HTMLResponse(render("not_found.html", message=exc.message, **context), status_code=404)
    problem: LaunchdeckError | None = None
    found = None
    try:
        if not region or not phase:
            raise InvalidInput("region" if not region else "phase", "choose a region and a phase below")
        found = blockers(session=session, slug=slug, region=region.strip(), phase=phase.strip(), now=utcnow())
    except LaunchdeckError as exc:
        problem = exc
    session.commit()
    page = render("blockers.html", found=found, problem=problem, choices=choices, **context)
    return HTMLResponse(page, status_code=_status(problem) if problem else 200)
