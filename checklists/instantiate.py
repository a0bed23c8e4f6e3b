"""Launches made from templates, and templates applied to running launches: the checklists
package's entry points that touch the database (through orchestrator services only)."""

from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, select

from checklists.approvers import with_default_approvers
from checklists.catalog import Directory, RegionInfo
from checklists.item_text import LaunchFacts
from checklists.loader import Library, load_library
from checklists.planning import RolloutPlan, plan_for_spec, plan_items, unknown_flags
from orchestrator.core.actors import Actor
from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.models import Launch, PhaseDate, Region, RegionRollout, Team
from orchestrator.launches.service import create_launch
from orchestrator.launches.spec import LaunchSpec
from orchestrator.launches.template_sync import TemplateSync, sync_launch_items


def directory_from_db(session: Session) -> Directory:
    regions = list(session.exec(select(Region)))
    parents = {region.id: region.code for region in regions}
    return Directory(
        teams=frozenset(session.exec(select(Team.key))),
        regions={
            region.code: RegionInfo(
                region.code,
                region.name,
                region.timezone,
                parents.get(region.parent_id) if region.parent_id else None,
            )
            for region in regions
        },
    )


def load_for_session(session: Session, *, extra_dirs: Sequence[Path] = ()) -> Library:
    """The library as configured, validated against the teams and regions in this database."""
    return load_library(directory=directory_from_db(session), extra_dirs=extra_dirs)


def create_launch_from_templates(*, session: Session, spec: LaunchSpec, library: Library, actor: Actor) -> Launch:
    """Create a launch with every template item that applies to its tier, regions and flags.

    The launch records the library version; later template edits leave it alone until applied.
    Go/no-go phases that name no approvers get the templates' defaults (``checklists.approvers``).
    """
    unknown = unknown_flags(library, spec.flags)
    if unknown:
        raise InvalidInput("flags", f"unknown flag(s) {', '.join(unknown)}; known: {', '.join(sorted(library.flags))}")
    items = plan_for_spec(library, spec=spec, regions=directory_from_db(session).regions)
    spec = with_default_approvers(session, spec=spec, library=library)
    versioned = spec.model_copy(update={"template_version": library.version})
    return create_launch(session=session, spec=versioned, items=items, actor=actor)


def apply_library(
    *, session: Session, slug: str, library: Library, actor: Actor, dry_run: bool = False
) -> TemplateSync:
    """Bring a running launch up to ``library``: add new items, update open ones, retire open
    items the template no longer has (as n/a); done, waived and n/a items stay as they are."""
    launch = session.exec(select(Launch).where(Launch.slug == slug)).one_or_none()
    if launch is None:
        raise NotFound("launch", slug)
    assert launch.id is not None
    directory = directory_from_db(session)
    rollouts: dict[str, RolloutPlan] = {}
    for rollout, region in session.exec(
        select(RegionRollout, Region)
        .join(Region, Region.id == RegionRollout.region_id)  # type: ignore[arg-type]
        .where(RegionRollout.launch_id == launch.id)
    ):
        phase_rows = session.exec(select(PhaseDate.phase).where(PhaseDate.rollout_id == rollout.id))
        phases = frozenset(Phase(phase) for phase in phase_rows)
        rollouts[region.code] = RolloutPlan(region=directory.regions[region.code], phases=phases)
    facts = LaunchFacts(
        name=launch.name, slug=launch.slug, tier=launch.tier, owner=launch.owner, flags=tuple(launch.flags)
    )
    desired = plan_items(library, launch=facts, rollouts=rollouts)
    return sync_launch_items(
        session=session,
        launch_id=launch.id,
        desired=desired,
        template_version=library.version,
        actor=actor,
        dry_run=dry_run,
    )
