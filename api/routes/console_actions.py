"""Prod ops' forms on a launch's page: kick off; halt, resume, roll back and reschedule a region;
waive an item; change a phase's approvers. Each posts to the same core service as its API route
(api/routes/launches.py, items.py, decisions.py), which checks the role itself, so a member who
posts anyway gets a 403 page saying why and nothing is written.

The routes only read the form's text into the service's arguments. Bad input re-renders the
launch page with the message beside its field (422); a refusal of the state (a repeat halt, a
launch not ready to kick off) re-renders it with the message above the forms (409); success
redirects to the launch page (303), where the result shows."""

from collections.abc import Callable, Mapping
from datetime import date, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import SessionDep
from api.pages import render
from api.web_security import SecureRoute, csrf_token, form_fields
from api.web_session import DASHBOARD_PREFIX, PagePrincipal, feed_key, subject_of
from orchestrator.core.actors import Actor
from orchestrator.core.clock import day_or_moment, utcnow
from orchestrator.core.enums import Phase
from orchestrator.core.errors import Forbidden, InvalidInput, LaunchdeckError, NotFound
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.directory.emails import unknown_emails
from orchestrator.directory.tokens import Principal
from orchestrator.gates.approvers import change_approvers
from orchestrator.items.service import waive_item
from orchestrator.launches.queries import launch_id_for, rollout_id_for
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from orchestrator.planning.conflicts import ConflictPreview, preview_reschedule
from orchestrator.reporting.launch_page import launch_page
from orchestrator.reporting.rag import Rag
from orchestrator.rollouts import service as rollouts

router = APIRouter(include_in_schema=False, route_class=SecureRoute)  # CSRF checks and security headers
LAUNCH = DASHBOARD_PREFIX + "/launches/{slug}"
CONFIRM_FIELD = "understand"
# A service names its argument; the form names the field a person typed it in.
FIELD_OF = {"new_at": "date", "expires_at": "date"}
BRAKES: dict[str, tuple[Callable[..., object], str]] = {
    "halt": (rollouts.halt_region, "halt"),
    "resume": (rollouts.resume_region, "resume"),
    "rollback": (rollouts.roll_back_region, "roll back"),
}

# A form's service call; one that answers a page itself (the reschedule's collision check) returns it.
Act = Callable[[Session, Actor, Mapping[str, str]], Response | None]


def confirmed(fields: Mapping[str, str], doing: str) -> None:
    """The confirmation step: the form's "I understand ..." box must be ticked."""
    if fields.get(CONFIRM_FIELD) != "yes":
        raise InvalidInput(CONFIRM_FIELD, f"tick the box to confirm that you mean to {doing}")


def phase_of(fields: Mapping[str, str], name: str = "phase") -> Phase:
    raw = fields.get(name, "").strip()
    try:
        return Phase(raw)
    except ValueError:
        choices = ", ".join(phase.value for phase in Phase.ordered())
        raise InvalidInput(name, f"choose a phase: {choices}") from None


def date_of(fields: Mapping[str, str], name: str = "date") -> date | datetime:
    """A date as typed: a plain date stays a day, which the service reads as the start of that day
    in the region's timezone, as in every door (``clock.region_moment``)."""
    raw = fields.get(name, "").strip()
    if not raw:
        raise InvalidInput(name, "give the new date (YYYY-MM-DD)")
    return day_or_moment(raw, field=name)


def launch_again(
    request: Request,
    session: Session,
    principal: Principal,
    slug: str,
    *,
    form: str,
    status: int,
    errors: Mapping[str, str] | None = None,
    problem: str | None = None,
    check: ConflictPreview | None = None,
) -> HTMLResponse:
    """The launch page again, with the form's typed values and what went wrong (or, for a
    reschedule's "Check collisions", what the new date would collide with)."""
    session.rollback()
    page = launch_page(session=session, slug=slug, now=utcnow())
    session.rollback()
    feed = str(
        request.url_for("phases_feed", slug=slug).include_query_params(feed=feed_key(subject_of(principal), slug))
    )
    html = render(
        "launch.html",
        page=page,
        principal=principal,
        feed_url=feed,
        Rag=Rag,
        csrf=csrf_token(request),
        action_form=form,
        action_values=form_fields(request),
        action_errors=dict(errors or {}),
        action_problem=problem,
        reschedule_check=check,
    )
    return HTMLResponse(html, status_code=status)


def perform(
    request: Request, session: Session, principal: Principal, slug: str, *, form: str, shown: frozenset[str], act: Act
) -> Response:
    """Run one form's service call and answer as the module docstring says (an input error about
    a field the form does not have, such as kickoff's "approvers", is said above the forms)."""
    fields = form_fields(request)
    try:
        require_role(principal.actor, LAUNCH_OPERATORS, doing="use prod ops' forms")
        answered = act(session, principal.actor, fields)
        if answered is not None:
            return answered
    except Forbidden as exc:
        return launch_again(request, session, principal, slug, form=form, status=403, problem=exc.message)
    except InvalidInput as exc:
        field = FIELD_OF.get(exc.field, exc.field)
        if field not in shown:
            return launch_again(request, session, principal, slug, form=form, status=422, problem=exc.message)
        errors = {field: exc.problem}
        return launch_again(request, session, principal, slug, form=form, status=422, errors=errors)
    except NotFound as exc:
        session.rollback()
        page = render("not_found.html", message=exc.message, principal=principal, csrf=csrf_token(request))
        return HTMLResponse(page, status_code=404)
    except LaunchdeckError as exc:
        return launch_again(request, session, principal, slug, form=form, status=409, problem=exc.message)
    return RedirectResponse(LAUNCH.format(slug=slug) + f"#{form}", status_code=303)


@router.post(LAUNCH + "/kickoff")
def kickoff_form(slug: str, request: Request, principal: PagePrincipal, session: SessionDep) -> Response:
    def act(session: Session, actor: Actor, fields: Mapping[str, str]) -> None:
        confirmed(fields, "kick off this launch")
        kick_off_launch(session=session, launch_id=launch_id_for(session=session, slug=slug), actor=actor)

    return perform(request, session, principal, slug, form="kickoff", shown=frozenset({CONFIRM_FIELD}), act=act)


@router.post(LAUNCH + "/regions/{region}/reschedule")
def reschedule_form(
    slug: str, region: str, request: Request, principal: PagePrincipal, session: SessionDep
) -> Response:
    def act(session: Session, actor: Actor, fields: Mapping[str, str]) -> Response | None:
        phase = phase_of(fields)
        new_at = date_of(fields)
        rollout_id = rollout_id_for(session=session, slug=slug, region=region)
        if fields.get("do") == "check":  # "Check collisions": nothing is saved
            check = preview_reschedule(
                session=session, rollout_id=rollout_id, phase=phase, new_at=new_at, actor=actor, now=utcnow()
            )
            form = f"reschedule-{region}"
            return launch_again(request, session, principal, slug, form=form, status=200, check=check)
        reschedule_phase(
            session=session,
            rollout_id=rollout_id,
            phase=phase,
            new_at=new_at,
            actor=actor,
            reason=fields.get("reason", ""),
        )
        return None

    return perform(
        request,
        session,
        principal,
        slug,
        form=f"reschedule-{region}",
        shown=frozenset({"phase", "date", "reason"}),
        act=act,
    )


@router.post(LAUNCH + "/regions/{region}/{brake}")
def brake_form(
    slug: str, region: str, brake: str, request: Request, principal: PagePrincipal, session: SessionDep
) -> Response:
    """Halt, resume or roll back a region: a reason (optional for resume) and the confirmation."""

    def act(session: Session, actor: Actor, fields: Mapping[str, str]) -> None:
        if brake not in BRAKES:
            raise NotFound("region action", brake, hint="use halt, resume or rollback")
        service, doing = BRAKES[brake]
        reason = fields.get("reason", "")
        confirmed(fields, f"{doing} {region}")
        rollout_id = rollout_id_for(session=session, slug=slug, region=region)
        service(session=session, rollout_id=rollout_id, actor=actor, reason=reason)

    return perform(
        request, session, principal, slug, form=f"{brake}-{region}", shown=frozenset({"reason", CONFIRM_FIELD}), act=act
    )


@router.post(LAUNCH + "/items/{item_id}/waive")
def waive_form(slug: str, item_id: int, request: Request, principal: PagePrincipal, session: SessionDep) -> Response:
    def act(session: Session, actor: Actor, fields: Mapping[str, str]) -> None:
        page = launch_page(session=session, slug=slug, now=utcnow())
        if item_id not in {item.id for item in page.items}:
            raise NotFound("item", item_id, hint=f"it is not an item of {slug}")
        waive_item(session=session, item_id=item_id, actor=actor, reason=fields.get("reason", ""))

    return perform(request, session, principal, slug, form=f"waive-{item_id}", shown=frozenset({"reason"}), act=act)


@router.post(LAUNCH + "/approvers")
def approvers_form(slug: str, request: Request, principal: PagePrincipal, session: SessionDep) -> Response:
    """Who approves a phase (in one region or all), the quorum and distinct teams, with a reason."""

    def act(session: Session, actor: Actor, fields: Mapping[str, str]) -> None:
        phase = phase_of(fields)
        emails = [part.strip() for part in fields.get("approvers", "").replace("\n", ",").split(",") if part.strip()]
        unknown = unknown_emails(session=session, emails=emails)
        if unknown:
            raise InvalidInput("approvers", f"no member has the email {', '.join(unknown)}; give members' emails")
        quorum_text = fields.get("quorum", "").strip()
        if quorum_text and not (quorum_text.isascii() and quorum_text.isdigit()):
            raise InvalidInput("quorum", "a whole number of Gos, or leave it empty for every approver")
        change_approvers(
            session=session,
            launch_id=launch_id_for(session=session, slug=slug),
            phase=phase,
            approvers=emails,
            actor=actor,
            reason=fields.get("reason", ""),
            region=fields.get("region", "").strip() or None,
            quorum=int(quorum_text) if quorum_text else None,
            distinct_teams=fields.get("distinct_teams") == "yes",
        )

    return perform(
        request,
        session,
        principal,
        slug,
        form="approvers",
        shown=frozenset({"phase", "region", "approvers", "quorum", "reason"}),
        act=act,
    )
