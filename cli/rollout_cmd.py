"""`launchdeck launch halt|resume|rollback`: stop a region, start it again, or take its exposure
to 0%, through the same services as the API's region actions (``orchestrator.rollouts.service``),
so a repeat or a move the state machine does not allow is refused with the same sentence."""

from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.core.models import RegionRollout
from orchestrator.launches.queries import rollout_id_for
from orchestrator.rollouts.service import halt_region, resume_region, roll_back_region

console = Console(soft_wrap=True)

Slug = Annotated[str, typer.Argument(help="The launch's slug.")]
RegionCode = Annotated[str, typer.Option(help="Region code, e.g. EU.")]
# The three region actions share one keyword signature (reason optional only for resume).
RegionService = Callable[..., RegionRollout]
Version = Annotated[int | None, typer.Option(min=1, help="The region's version you read; a newer one is refused.")]


def _act(service: RegionService, what: str, slug: str, region: str, reason: str | None, version: int | None) -> None:
    """Run one region action as the CLI's actor and say where the region stands now."""
    with open_session() as session:
        rollout_id = rollout_id_for(session=session, slug=slug, region=region)
        rollout = service(
            session=session, rollout_id=rollout_id, actor=cli_actor(), reason=reason, expected_version=version
        )
    phase = rollout.phase.value if rollout.phase else "-"
    console.print(
        f"[green]{what}[/] {escape(slug)} {escape(region)}: now {rollout.state.value} in {phase} at {rollout.percent}%"
    )


@friendly_errors
def halt(
    slug: Slug,
    region: RegionCode,
    reason: Annotated[str, typer.Option(help="Why; shown wherever the region is.")],
    version: Version = None,
) -> None:
    """Stop a region where it is; nothing moves until it is resumed."""
    _act(halt_region, "halted", slug, region, reason, version)


@friendly_errors
def resume(
    slug: Slug,
    region: RegionCode,
    reason: Annotated[str | None, typer.Option(help="Why it may go on (kept in the audit trail).")] = None,
    version: Version = None,
) -> None:
    """Resume a halted or rolled-back region exactly where it was (a rolled-back one re-ramps)."""
    _act(resume_region, "resumed", slug, region, reason, version)


@friendly_errors
def rollback(
    slug: Slug,
    region: RegionCode,
    reason: Annotated[str, typer.Option(help="Why; shown wherever the region is.")],
    version: Version = None,
) -> None:
    """Take the region's exposure to 0% in its current phase; resume re-ramps it."""
    _act(roll_back_region, "rolled back", slug, region, reason, version)
