"""Launches and their regions: create from templates, list, read with rollups, kick off,
reschedule, halt, resume, roll back."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status

from api.deps import PrincipalDep, SessionDep, allow
from api.problems import ERROR_RESPONSES
from api.schemas.common import Page
from api.schemas.gates import CriterionOut, GateOut
from api.schemas.launches import (
    LaunchCreate,
    LaunchOut,
    LaunchSummaryOut,
    PhaseDateOut,
    ReasonIn,
    RescheduleIn,
    ResumeIn,
    RolloutOut,
)
from checklists.instantiate import create_launch_from_templates, load_for_session
from orchestrator.core.enums import LaunchStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.policy import LAUNCH_OPERATORS, READERS
from orchestrator.core.settings import get_settings
from orchestrator.launches.queries import LaunchDetail, RolloutView, launch_detail, list_launches, rollout_id_for
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from orchestrator.launches.spec import LaunchSpec, RegionPlan
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


def rollout_out(view: RolloutView) -> RolloutOut:
    return RolloutOut(
        id=view.id,
        region=view.region,
        region_name=view.region_name,
        timezone=view.timezone,
        state=view.state,
        phase=view.phase,
        percent=view.percent,
        version=view.version,
        halt_reason=view.halt_reason,
        phases=[
            PhaseDateOut(phase=p.phase, baseline_at=p.baseline_at, current_at=p.current_at, slip_days=p.slip_days)
            for p in view.phases
        ],
        gates=[
            GateOut(
                id=g.id,
                phase=g.phase,
                kind=g.kind,
                status=g.status,
                criteria=[CriterionOut.model_validate(c, from_attributes=True) for c in g.criteria],
            )
            for g in view.gates
        ],
        items_total=view.items_total,
        items_open_blocking=view.items_open_blocking,
        items_overdue=view.items_overdue,
    )


def launch_out(detail: LaunchDetail) -> LaunchOut:
    launch = detail.launch
    assert launch.id is not None
    return LaunchOut(
        id=launch.id,
        slug=launch.slug,
        name=launch.name,
        tier=launch.tier,
        status=launch.status,
        owner=launch.owner,
        exec_sponsor=launch.exec_sponsor,
        flags=launch.flags,
        template_version=launch.template_version,
        wave_mode=launch.wave_mode,
        version=launch.version,
        rollouts=[rollout_out(view) for view in detail.rollouts],
    )


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
)
def create(body: LaunchCreate, session: SessionDep, principal: PrincipalDep) -> LaunchOut:
    """Create a launch (draft) with every checklist item its tier, regions and flags call for."""
    spec = LaunchSpec(
        slug=body.slug,
        name=body.name,
        tier=body.tier,
        owner=body.owner,
        exec_sponsor=body.exec_sponsor,
        flags=body.flags,
        regions=[RegionPlan(region=plan.region, dates=plan.dates) for plan in body.regions],
        approvers=body.approvers,
        wave_mode=body.wave_mode,
        ramp_plan=body.ramp_plan,
        beta_exit_criteria=body.beta_exit_criteria,
    )
    extra = [get_settings().checklists_dir] if get_settings().checklists_dir else []
    library = load_for_session(session, extra_dirs=[path for path in extra if path is not None])
    create_launch_from_templates(session=session, spec=spec, library=library, actor=principal.actor)
    return launch_out(launch_detail(session=session, slug=body.slug))


@router.get("/{slug}", response_model=LaunchOut, dependencies=[Depends(allow(READERS))])
def read(slug: str, session: SessionDep) -> LaunchOut:
    """One launch with each region's state, phase dates (baseline and current), gates and item counts."""
    return launch_out(launch_detail(session=session, slug=slug))


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
    return launch_out(launch_detail(session=session, slug=slug))


@router.post(
    "/{slug}/regions/{region}/reschedule", response_model=LaunchOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))]
)
def reschedule(
    slug: str, region: str, body: RescheduleIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> LaunchOut:
    """Move one region's phase date; the baseline stays, the change and its reason are kept, and
    the phase's open items move their due dates with it."""
    rollout_id = rollout_id_for(session=session, slug=slug, region=region)
    reschedule_phase(
        session=session,
        rollout_id=rollout_id,
        phase=body.phase,
        new_at=body.date,
        actor=principal.actor,
        reason=body.reason,
        expected_version=expected_version(if_match, body.version),
    )
    return launch_out(launch_detail(session=session, slug=slug))


@router.post("/{slug}/regions/{region}/halt", response_model=LaunchOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))])
def halt(
    slug: str, region: str, body: ReasonIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> LaunchOut:
    """Stop the region where it is; nothing moves until it is resumed."""
    rollout_id = rollout_id_for(session=session, slug=slug, region=region)
    rollouts.halt_region(
        session=session,
        rollout_id=rollout_id,
        actor=principal.actor,
        reason=body.reason,
        expected_version=expected_version(if_match, body.version),
    )
    return launch_out(launch_detail(session=session, slug=slug))


@router.post(
    "/{slug}/regions/{region}/resume", response_model=LaunchOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))]
)
def resume(
    slug: str, region: str, body: ResumeIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> LaunchOut:
    """Resume a halted region where it stopped, or a rolled-back one from its first ramp step."""
    rollout_id = rollout_id_for(session=session, slug=slug, region=region)
    rollouts.resume_region(
        session=session,
        rollout_id=rollout_id,
        actor=principal.actor,
        reason=body.reason,
        expected_version=expected_version(if_match, body.version),
    )
    return launch_out(launch_detail(session=session, slug=slug))


@router.post(
    "/{slug}/regions/{region}/rollback", response_model=LaunchOut, dependencies=[Depends(allow(LAUNCH_OPERATORS))]
)
def rollback(
    slug: str, region: str, body: ReasonIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> LaunchOut:
    """Take the region's exposure to 0%; the rollout target is told, and resume ramps again."""
    rollout_id = rollout_id_for(session=session, slug=slug, region=region)
    rollouts.roll_back_region(
        session=session,
        rollout_id=rollout_id,
        actor=principal.actor,
        reason=body.reason,
        expected_version=expected_version(if_match, body.version),
    )
    return launch_out(launch_detail(session=session, slug=slug))
