"""`launchdeck exposure check SLUG [--region R]`: evaluate synthetic users against each region's
rollout target now and print the share launchdeck intended beside the share the target serves.

The same check the worker runs after each step (``flows.exposure_check``), against the change the
target last took (a step still queued is not held against it); recorded, and a mismatch beyond
the tolerance halts the region the ordinary way, in the name of whoever ran the command."""

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Engine

from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.core.errors import InvalidInput
from orchestrator.core.settings import get_settings
from orchestrator.launches.queries import launch_detail, launch_id_for, rollout_id_for
from orchestrator.rollouts.exposure import last_sent
from orchestrator.rollouts.exposure_checks import CheckView

app = typer.Typer(help="Exposure: what a launch's rollout target really serves.", no_args_is_help=True)
console = Console(soft_wrap=True)


@app.command("check")
@friendly_errors
def check(
    slug: Annotated[str, typer.Argument(help="The launch's slug.")],
    region: Annotated[str | None, typer.Option(help="Only this region (code, e.g. EU); default: every region.")] = None,
    users: Annotated[
        int | None, typer.Option(min=1, help="Synthetic users per region; default LAUNCHDECK_EXPOSURE_CHECK_USERS.")
    ] = None,
) -> None:
    """Check each region now: intended vs observed share of synthetic users. Exits 1 when a
    region's observed share is off by more than LAUNCHDECK_EXPOSURE_CHECK_TOLERANCE points."""
    settings = get_settings()
    rows: list[tuple[str, CheckView | None]] = []
    with open_session() as session:
        if region is not None:
            rollout_id_for(session=session, slug=slug, region=region)  # an unknown region names the known ones
        launch_id = launch_id_for(session=session, slug=slug)
        detail = launch_detail(session=session, slug=slug)
        codes = [view.region for view in detail.rollouts if region is None or view.region == region]
        session.commit()
        sent = last_sent(session, launch_id=launch_id)
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        # Imported here: the flag providers (Unleash, OpenFeature) cost every other CLI command
        # about 0.9 s of start-up if imported with the module.
        from flows.exposure_check import checker_from_settings
        from flows.target_registry import targets_from_settings

        checker = checker_from_settings(
            settings, targets_from_settings(settings, engine), actor=cli_actor(), users=users
        )
        if checker is None:
            raise InvalidInput("users", "LAUNCHDECK_EXPOSURE_CHECK_USERS is 0 (checks are off); pass --users 2000")
        for code in codes:
            request = sent.get(code)
            rows.append((code, None if request is None else checker.check(session, request, now=utcnow())))
    console.print(_table(slug, rows, tolerance=settings.exposure_check_tolerance))
    if any(view is not None and view.ok is False for _code, view in rows):
        raise typer.Exit(code=1)


def _table(slug: str, rows: list[tuple[str, CheckView | None]], *, tolerance: float) -> Table:
    table = Table(title=f"Exposure of {escape(slug)} (tolerance {tolerance:g} points)", title_justify="left")
    for column in ("Region", "Target", "Intended", "Observed", "Users", "OK"):
        table.add_column(column, no_wrap=True)
    table.add_column("Note", overflow="fold")
    for code, view in rows:
        if view is None:
            table.add_row(escape(code), "", "", "", "", "", "nothing sent to the target yet")
            continue
        table.add_row(
            escape(code),
            escape(view.target),
            f"{view.intended}%",
            view.observed_text,
            str(view.users),
            view.verdict,
            escape(view.note or ""),
        )
    return table
