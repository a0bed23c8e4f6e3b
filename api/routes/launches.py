"""Launches and their regions: create from templates, list, read with rollups, kick off, and the
region actions (reschedule, halt, resume, roll back), which share a shape and are one table,
``_REGION_ACTIONS``."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, status
from fastapi.responses import JSONResponse
from sqlmodel import Session

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.blockers import BlockersOut
from api.schemas.common import Body, Page
from api.schemas.launches import (
    LaunchCreate,
    LaunchOut,
    LaunchSummaryOut,
    ReasonIn,
    RescheduleIn,
    ResumeIn,
)
from api.schemas.planning import ConflictPreviewOut
from checklists.instantiate import create_launch_from_templates, load_for_session
from orchestrator.core.actors import Actor
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import LaunchStatus, Phase, Role
from orchestrator.core.errors import InvalidInput
from orchestrator.core.policy import LAUNCH_OPERATORS, READERS
from orchestrator.core.settings import get_settings
from orchestrator.directory.queries import region_timezones
from orchestrator.directory.seed import REGION_PATTERN
from orchestrator.launches.queries import launch_detail, list_launches, rollout_id_for
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from orchestrator.launches.spec import launch_spec
from orchestrator.planning.conflicts import ConflictPreview, preview_new_launch, preview_reschedule
from orchestrator.reporting.blockers import blockers
from orchestrator.rollouts import service as rollouts

router = APIRouter(responses=ERROR_RESPONSES, prefix="/launches", tags=["launches"])
IfMatch = Annotated[
    str | None,
    Header(
        description='The version you read, e.g. "3"; a newer one answers 409 instead of overwriting.',
        pattern=r'^(W/)?"?[0-9]{1,9}"?$',
    ),
]


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """If-Match (an ETag such as "3" or W/"3") or a version field in the body; both must agree."""
    header_version = None
    if if_match is not None:
        raw = if_match.strip().removeprefix("W/").strip('"')
        if not raw.isdigit():
            raise InvalidInput("If-Match", f'{if_match!r} is not a version; send the number you read, e.g. "3"')
        header_version = int(raw)
    if header_version is not None and body_version is not None and header_version != body_version:
        raise InvalidInput("version", "If-Match and the body's version disagree; send one of them")
    return header_version if header_version is not None else body_version


DryRun = Annotated[
    bool,
    Query(
        description="true: save nothing and answer the collisions the change would cause "
        "(ConflictPreviewOut, status 200) instead."
    ),
]


def dry_run_answer(session: Session, preview: ConflictPreview) -> JSONResponse:
    """A dry run's answer; its read is ended (rolled back) first, as nothing is to be saved."""
    session.rollback()
    return JSONResponse(ConflictPreviewOut.of(preview).model_dump(mode="json"), status_code=200)


def launch_answer(session: Session, slug: str) -> LaunchOut:
    """The launch as it is now (read after a change), each region with its dates, gates and counts."""
    return LaunchOut.model_validate(launch_detail(session=session, slug=slug), from_attributes=True)


@router.get("", response_model=Page[LaunchSummaryOut], dependencies=[Depends(allow(READERS))])
def list_all(
    session: SessionDep,
    status_filter: Annotated[LaunchStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[LaunchSummaryOut]:
    """Launches, newest first."""
    launches = list_launches(session=session, status=status_filter)
    page = launches[offset : offset + limit]
    return Page(
        data=[LaunchSummaryOut.model_validate(summary, from_attributes=True) for summary in page],
        count=len(launches),
        limit=limit,
        offset=offset,
    )


@router.post(
    "",
    response_model=LaunchOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(allow(LAUNCH_OPERATORS))],
    responses={200: {"model": ConflictPreviewOut, "description": "dry_run=true: the collisions; nothing saved."}},
)
def create(
    body: LaunchCreate, session: SessionDep, principal: PrincipalDep, dry_run: DryRun = False
) -> LaunchOut | JSONResponse:
    """Create a launch (draft) with every checklist item its tier, regions and flags call for.
    With ``dry_run=true`` nothing is saved: the answer lists the collisions it would cause."""
    # Validated as one body, so a refused date or skip names its region: `regions.1.skip`.
    # Plain dates mean the start of that day in each region's timezone (clock.PLAIN_DATE_MEANING).
    spec = launch_spec(body.model_dump(), timezones=region_timezones(session=session))
    if dry_run:
        return dry_run_answer(
            session, preview_new_launch(session=session, spec=spec, actor=principal.actor, now=utcnow())
        )
    extra = [get_settings().checklists_dir] if get_settings().checklists_dir else []
    library = load_for_session(session, extra_dirs=[path for path in extra if path is not None])
    create_launch_from_templates(session=session, spec=spec, library=library, actor=principal.actor)
    return launch_answer(session, body.slug)


@router.get("/{slug}", response_model=LaunchOut, dependencies=[Depends(allow(READERS))])
def read(slug: str, session: SessionDep) -> LaunchOut:
    """One launch with each region's state, phase dates (baseline and current), gates and item counts."""
    return launch_answer(session, slug)


@router.post("/{slug}/kickoff", response_model=LaunchOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))])
def kickoff(slug: str, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None) -> LaunchOut:
    """Start the launch: every region opens the gates of its first phase. Repeating it is harmless."""
    detail = launch_detail(session=session, slug=slug)
    assert detail.launch.id is not None
    kick_off_launch(
        session=session,
        launch_id=detail.launch.id,
        actor=principal.actor,
        expected_version=expected_version(if_match, None),
    )
    return launch_answer(session, slug)


@dataclass(frozen=True)
class _RegionAction:
    """One action on a launch's region, as a route: its path, body, who may call it, the service
    call (given the region's rollout id and the expected version) and the route's description."""

    path: str
    body: type[Body]
    roles: frozenset[Role]
    act: Callable[[Session, int, Actor, Any, int | None], object]
    doc: str
    # The dry run (``?dry_run=true``) of the action, for those that have one: what it would collide with.
    preview: Callable[[Session, int, Actor, Any], ConflictPreview] | None = None


_REGION_ACTIONS = (
    _RegionAction(
        "reschedule",
        RescheduleIn,
        LAUNCH_OPERATORS,
        lambda session, rollout_id, actor, body, version: reschedule_phase(
            session=session,
            rollout_id=rollout_id,
            phase=body.phase,
            new_at=body.date,
            actor=actor,
            reason=body.reason,
            expected_version=version,
        ),
        "Move one region's phase date; the baseline stays, the change and its reason are kept, and\n"
        "the phase's open items move their due dates with it. With dry_run=true nothing is saved:\n"
        "the answer lists the collisions the new date would cause and those it would end.",
        lambda session, rollout_id, actor, body: preview_reschedule(
            session=session, rollout_id=rollout_id, phase=body.phase, new_at=body.date, actor=actor, now=utcnow()
        ),
    ),
    _RegionAction(
        "halt",
        ReasonIn,
        LAUNCH_OPERATORS,
        lambda session, rollout_id, actor, body, version: rollouts.halt_region(
            session=session, rollout_id=rollout_id, actor=actor, reason=body.reason, expected_version=version
        ),
        "Stop the region where it is; nothing moves until it is resumed.",
    ),
    _RegionAction(
        "resume",
        ResumeIn,
        LAUNCH_OPERATORS,
        lambda session, rollout_id, actor, body, version: rollouts.resume_region(
            session=session, rollout_id=rollout_id, actor=actor, reason=body.reason, expected_version=version
        ),
        "Resume a halted region where it stopped, or a rolled-back one from its first ramp step.",
    ),
    _RegionAction(
        "rollback",
        ReasonIn,
        LAUNCH_OPERATORS,
        lambda session, rollout_id, actor, body, version: rollouts.roll_back_region(
            session=session, rollout_id=rollout_id, actor=actor, reason=body.reason, expected_version=version
        ),
        "Take the region's exposure to 0%; the rollout target is told, and resume ramps again.",
    ),
)


def _register(action: _RegionAction) -> None:
    """Add ``action`` to the router as ``POST /launches/{slug}/regions/{region}/<path>``: the body
    is validated as the action's model (documented in OpenAPI), the caller's role gated, then one
    service call on the region's rollout; the answer is the launch as it is after it. An action
    with a dry run also takes ``?dry_run=true``, answered with its preview instead."""

    def endpoint(
        slug: str, region: str, body: Any, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
    ) -> LaunchOut:
        rollout_id = rollout_id_for(session=session, slug=slug, region=region)
        action.act(session, rollout_id, principal.actor, body, expected_version(if_match, body.version))
        return launch_answer(session, slug)

    def endpoint_with_dry_run(
        slug: str,
        region: str,
        body: Any,
        session: SessionDep,
        principal: PrincipalDep,
        if_match: IfMatch = None,
        dry_run: DryRun = False,
    ) -> LaunchOut | JSONResponse:
        if not dry_run or action.preview is None:
            return endpoint(slug, region, body, session, principal, if_match)
        rollout_id = rollout_id_for(session=session, slug=slug, region=region)
        return dry_run_answer(session, action.preview(session, rollout_id, principal.actor, body))

    chosen = endpoint if action.preview is None else endpoint_with_dry_run
    chosen.__annotations__["body"] = action.body
    chosen.__name__ = action.path
    chosen.__doc__ = action.doc
    router.post(
        f"/{{slug}}/regions/{{region}}/{action.path}",
        response_model=LaunchOut if action.preview is None else LaunchOut | ConflictPreviewOut,
        dependencies=[Depends(allow(action.roles))],
    )(chosen)


for _action in _REGION_ACTIONS:
    _register(_action)


@router.get("/{slug}/blockers", response_model=BlockersOut, dependencies=[Depends(allow(READERS))])
def launch_blockers(
    slug: str,
    session: SessionDep,
    region: Annotated[str, Query(max_length=40, pattern=REGION_PATTERN, examples=["EU"])],
    phase: Annotated[Phase, Query(examples=["ga"])],
) -> BlockersOut:
    """What keeps one region from a phase: its open blocking items (owner, assignee, due date, days
    late, dependencies), the approval gate's votes (who voted what, who is missing), the phase
    date, the earlier regions a sequential wave waits for, the beta exit criteria with their
    values, the region's state, when the worker next acts, and all of it in sentences (reasons).
    An unknown region is a 404 naming the launch's regions; a phase the region skips is a 422."""
    found = blockers(session=session, slug=slug, region=region, phase=phase, now=utcnow())
    return BlockersOut.model_validate(found, from_attributes=True)
