"""New launch from the templates, in the browser (prodops and admins): one form, a "Preview" that
shows what the launch would get before anything is written (``checklists.preview``) and the
collisions it would cause (``planning.conflicts.preview_new_launch``), and a
"Create" that calls the same ``create_launch_from_templates`` as ``POST /api/v1/launches``.

The form's text becomes the API's body shape (``LaunchSpec``); every refusal, the form's own
(a date that is not one, a phase neither dated nor skipped, an email no member has) and the
spec's (``regions.0.dates.ga``), is shown beside its field with a 422, and nothing is written.
A plain date means the start of that day in the region's timezone, as in every door
(``clock.PLAIN_DATE_MEANING``)."""

import re
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from api.deps import SessionDep
from api.pages import render
from api.web_security import SecureRoute, csrf_token, form_fields
from api.web_session import DASHBOARD_PREFIX, PagePrincipal
from checklists.catalog import RegionInfo
from checklists.instantiate import create_launch_from_templates, directory_from_db, load_for_session
from checklists.loader import Library
from checklists.preview import LaunchPreview, preview_launch
from orchestrator.core.clock import day_or_moment, utcnow
from orchestrator.core.enums import Phase, WaveMode
from orchestrator.core.errors import AlreadyExists, Forbidden, InvalidInput
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.core.settings import get_settings
from orchestrator.directory.emails import unknown_emails
from orchestrator.directory.tokens import Principal
from orchestrator.launches.spec import LaunchSpec, launch_spec
from orchestrator.planning.conflicts import ConflictPreview, preview_new_launch
from orchestrator.rollouts.ramp import DEFAULT_RAMPS, RampStep, parse_ramp_plan

router = APIRouter(include_in_schema=False, route_class=SecureRoute)  # CSRF checks and security headers
NEW = DASHBOARD_PREFIX + "/launches/new"
DOING = "create launches"


def _library(session: Session) -> Library:
    extra = get_settings().checklists_dir
    return load_for_session(session, extra_dirs=[extra] if extra else [])


def _emails(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _region_plans(fields: Mapping[str, str], chosen: list[str], errors: dict[str, str]) -> list[dict[str, Any]]:
    """Each chosen region's phases: a date (YYYY-MM-DD, or a timestamp) or an explicit skip."""
    return [_region_plan(fields, code, index, errors) for index, code in enumerate(chosen)]


def _region_plan(fields: Mapping[str, str], code: str, index: int, errors: dict[str, str]) -> dict[str, Any]:
    dates: dict[str, Any] = {}
    skip = []
    for phase in Phase.ordered():
        key = f"regions.{index}.dates.{phase.value}"
        raw = fields.get(f"date.{code}.{phase.value}", "").strip()
        if fields.get(f"skip.{code}.{phase.value}") == "yes":
            skip.append(phase.value)
            if raw:
                errors[key] = "has a date and is ticked to skip; clear the date or untick skip"
        elif not raw:
            errors[key] = "give a date (YYYY-MM-DD) or tick skip"
        else:
            try:
                dates[phase.value] = day_or_moment(raw, field=key)  # a day is read in the region's zone
            except InvalidInput as exc:
                errors[key] = exc.problem
    return {"region": code, "dates": dates, "skip": skip}


# One ramp step as typed: "25%" or "25% 4h" (hold 4 hours before the next step; m, h or d).
RAMP_STEP = re.compile(r"^(?P<percent>[0-9]{1,3})\s*%?(?:\s+(?:for\s+)?(?P<hold>[0-9]{1,5})\s*(?P<unit>m|h|d))?$")
HOLD_MINUTES = {"m": 1, "h": 60, "d": 24 * 60}
RAMP_HOW = 'steps like "5% 4h, 25% 24h, 100%" (percent, then how long to hold it: m, h or d), ending at 100%'


def ramp_text(steps: tuple[RampStep, ...]) -> str:
    """A ramp as the form shows and reads it (the defaults are the fields' placeholders)."""

    def hold(step: RampStep) -> str:
        minutes = int(step.hold.total_seconds() // 60)
        if not minutes:
            return ""
        unit = next(unit for unit in ("d", "h", "m") if minutes % HOLD_MINUTES[unit] == 0)
        return f" {minutes // HOLD_MINUTES[unit]}{unit}"

    return ", ".join(f"{step.percent}%{hold(step)}" for step in steps)


DEFAULT_RAMP_TEXT = {phase.value: ramp_text(steps) for phase, steps in DEFAULT_RAMPS.items()}


def _ramp_plan(fields: Mapping[str, str], errors: dict[str, str]) -> dict[str, list[dict[str, int | float]]]:
    """The ramp plan typed per phase (empty: the phase keeps its default steps), each phase
    checked by the rule the API applies (``parse_ramp_plan``), its error keyed ``ramp_plan.<phase>``."""
    plan: dict[str, list[dict[str, int | float]]] = {}
    for phase in Phase.ordered():
        typed = fields.get(f"ramp.{phase.value}", "").strip()
        if not typed:
            continue
        key = f"ramp_plan.{phase.value}"
        steps: list[dict[str, int | float]] = []
        for part in (part.strip() for part in typed.split(",")):
            found = RAMP_STEP.fullmatch(part)
            if found is None:
                errors[key] = f"{part!r} is not a step; give {RAMP_HOW}"
                break
            hold = int(found["hold"] or 0) * HOLD_MINUTES[found["unit"] or "m"]
            steps.append({"percent": int(found["percent"]), "hold_minutes": hold})
        else:
            try:
                parse_ramp_plan({phase.value: steps})
            except InvalidInput as exc:
                errors[key] = f"{exc.problem}; give {RAMP_HOW}"
            else:
                plan[phase.value] = steps
    return plan


def spec_from_form(
    session: Session, fields: Mapping[str, str], *, library: Library, regions: Mapping[str, RegionInfo]
) -> tuple[LaunchSpec | None, dict[str, str]]:
    """The launch the form describes, or the errors keyed by the spec's field paths."""
    errors: dict[str, str] = {}
    chosen = [code for code in regions if fields.get(f"region.{code}") == "yes"]
    if not chosen:
        errors["regions"] = "choose at least one region"
    tier = fields.get("tier", "").strip()
    if tier not in {"1", "2", "3"}:
        errors["tier"] = "choose tier 1, 2 or 3"
    approvers = _emails(fields.get("approvers", ""))
    unknown = unknown_emails(session=session, emails=approvers)
    if unknown:
        errors["approvers"] = f"no member has the email {', '.join(unknown)}; give members' emails, or leave it empty"
    data = {
        "slug": fields.get("slug", "").strip(),
        "name": fields.get("name", "").strip(),
        "tier": int(tier) if "tier" not in errors else 2,
        "owner": fields.get("owner", "").strip(),
        "exec_sponsor": fields.get("exec_sponsor", "").strip() or None,
        "flags": [flag for flag in library.flags if fields.get(f"flag.{flag}") == "yes"],
        "regions": _region_plans(fields, chosen, errors),
        "approvers": approvers,
        "wave_mode": fields.get("wave_mode", WaveMode.PARALLEL.value),
        "ramp_plan": _ramp_plan(fields, errors),
    }
    try:
        spec = launch_spec(data, timezones={code: region.timezone for code, region in regions.items()})
    except ValidationError as exc:
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "form"
            errors.setdefault(key, str(error["msg"]).removeprefix("Value error, "))
        return None, errors
    return (None, errors) if errors else (spec, errors)


def _page(
    request: Request,
    principal: Principal,
    *,
    library: Library,
    regions: Mapping[str, RegionInfo],
    status: int = 200,
    errors: Mapping[str, str] | None = None,
    preview: LaunchPreview | None = None,
    conflicts: ConflictPreview | None = None,
    problem: str | None = None,
) -> HTMLResponse:
    fields = form_fields(request) if request.method == "POST" else {}
    chosen = [code for code in regions if fields.get(f"region.{code}") == "yes"]
    html = render(
        "new_launch.html",
        principal=principal,
        csrf=csrf_token(request),
        values=fields,
        errors=dict(errors or {}),
        region_index={code: index for index, code in enumerate(chosen)},
        regions=list(regions.values()),
        flags=library.flags,
        phases=Phase.ordered(),
        wave_modes=list(WaveMode),
        default_ramps=DEFAULT_RAMP_TEXT,
        preview=preview,
        conflicts=conflicts,
        problem=problem,
    )
    return HTMLResponse(html, status_code=status)


def _refused(request: Request, principal: Principal, exc: Forbidden) -> HTMLResponse:
    page = render("auth_problem.html", title="Not allowed", message=exc.message, keepers=[], csrf=csrf_token(request))
    return HTMLResponse(page, status_code=403)


@router.get(NEW)
def new_launch_page(request: Request, principal: PagePrincipal, session: SessionDep) -> HTMLResponse:
    try:
        require_role(principal.actor, LAUNCH_OPERATORS, doing=DOING)
    except Forbidden as exc:
        return _refused(request, principal, exc)
    library = _library(session)
    regions = directory_from_db(session).regions
    session.rollback()
    return _page(request, principal, library=library, regions=regions)


@router.post(NEW)
def new_launch_post(request: Request, principal: PagePrincipal, session: SessionDep) -> Response:
    """Preview (``do=preview``) or create (``do=create``) the launch the form describes."""
    try:
        require_role(principal.actor, LAUNCH_OPERATORS, doing=DOING)
    except Forbidden as exc:
        return _refused(request, principal, exc)
    library = _library(session)
    regions = directory_from_db(session).regions
    fields = form_fields(request)
    spec, errors = spec_from_form(session, fields, library=library, regions=regions)
    if spec is None:
        session.rollback()
        return _page(request, principal, status=422, errors=errors, library=library, regions=regions)
    try:
        if fields.get("do") != "create":
            preview = preview_launch(session, spec=spec, library=library, regions=regions)
            conflicts = preview_new_launch(session=session, spec=spec, actor=principal.actor, now=utcnow())
            session.rollback()
            return _page(request, principal, preview=preview, conflicts=conflicts, library=library, regions=regions)
        create_launch_from_templates(session=session, spec=spec, library=library, actor=principal.actor)
    except AlreadyExists as exc:
        session.rollback()
        return _page(
            request,
            principal,
            status=422,
            errors={"slug": exc.message + "; choose another"},
            library=library,
            regions=regions,
        )
    except InvalidInput as exc:
        session.rollback()
        return _page(request, principal, status=422, errors={exc.field: exc.problem}, library=library, regions=regions)
    return RedirectResponse(f"{DASHBOARD_PREFIX}/launches/{spec.slug}", status_code=303)
