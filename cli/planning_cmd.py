"""Planning at the terminal: `launchdeck launch timeline SLUG` (a launch's regions x phases with
baselines, current dates, slips and collisions), `launchdeck load [--weeks N]` (team x week of
open items against capacity) and `launchdeck collisions`; and how the dry runs of `launch create`
and `launch reschedule` print what they would collide with. The same read models as the API."""

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.context import open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.planning.collisions import Collision
from orchestrator.planning.conflicts import ConflictPreview, portfolio_collisions
from orchestrator.planning.load import DEFAULT_WEEKS, MAX_WEEKS, LoadView, check_weeks, gtm_load
from orchestrator.planning.timeline import LaunchTimeline, launch_timeline

console = Console(soft_wrap=True)


@friendly_errors
def timeline(slug: Annotated[str, typer.Argument(help="The launch's slug.")]) -> None:
    """A launch's regions in wave order with each phase's baseline, current date, slip (days),
    reschedules and collisions; then each region's rollout window and freezes."""
    with open_session() as session:
        found = launch_timeline(session=session, slug=slug, now=utcnow())
    console.print(timeline_table(found))
    for region in sorted(found.lane.regions, key=lambda region: region.wave):
        freezes = "; ".join(freeze.label for freeze in region.freezes) or "no freezes"
        countries = ", ".join(region.holiday_countries) or "none"
        console.print(
            f"{escape(region.region)}: wave {region.wave}, window {escape(region.window)}, {escape(freezes)}, "
            f"holidays of {escape(countries)}",
            highlight=False,
        )


def timeline_table(found: LaunchTimeline) -> Table:
    lane = found.lane
    title = (
        f"{lane.name} ({lane.slug}), tier {lane.tier}, {lane.wave_mode.value} waves; today {found.axis.today:%Y-%m-%d}"
    )
    table = Table(title=escape(title), title_justify="left")
    for column in ("Wave", "Region", "Phase", "Baseline", "Current", "Slip", "Reschedules", "Collisions"):
        table.add_column(column, justify="right" if column in ("Wave", "Slip") else "left")
    for region in sorted(lane.regions, key=lambda region: region.wave):
        for mark in region.marks:
            slip = f"[red]+{mark.slip_days}[/]" if mark.slip_days > 0 else str(mark.slip_days)
            changes = "; ".join(
                f"{moved.old_day:%Y-%m-%d} -> {moved.new_day:%Y-%m-%d}: {moved.change.reason}" for moved in mark.changes
            )
            table.add_row(
                str(region.wave),
                escape(region.region),
                mark.phase.value,
                f"{mark.baseline_day:%Y-%m-%d}",
                f"{mark.current_day:%Y-%m-%d}",
                slip,
                escape(changes or "-"),
                f"[red]{escape('; '.join(mark.conflicts))}[/]" if mark.conflicts else "-",
            )
        for skipped in region.skipped:
            table.add_row(str(region.wave), escape(region.region), skipped.value, "skipped", "", "", "", "")
    return table


@friendly_errors
def load(
    weeks: Annotated[int, typer.Option(help=f"Weeks from this one (1-{MAX_WEEKS}).")] = DEFAULT_WEEKS,
) -> None:
    """Open items each team owes per week across draft and active launches, against its capacity
    (n/capacity; `!` over it), with the overdue ones apart."""
    check_weeks(weeks)
    with open_session() as session:
        view = gtm_load(session=session, now=utcnow(), weeks=weeks)
    console.print(load_table(view))
    if view.overloaded:
        listed = "; ".join(
            f"{team.team} week of {cell.week:%Y-%m-%d} ({cell.items}/{cell.capacity})" for team, cell in view.overloaded
        )
        console.print(f"[red]overloaded[/]: {escape(listed)}", highlight=False)
    else:
        console.print("no team is over capacity in these weeks")


def load_table(view: LoadView) -> Table:
    table = Table(title=f"GTM load from the week of {view.weeks[0]:%Y-%m-%d} (items/capacity)", title_justify="left")
    table.add_column("Team")
    table.add_column("Overdue", justify="right")
    for week in view.weeks:
        table.add_column(f"{week:%m-%d}", justify="right")
    for team in view.teams:
        cells = [f"[bold red]{c.items}/{c.capacity}![/]" if c.over else f"{c.items}/{c.capacity}" for c in team.cells]
        table.add_row(escape(team.team), str(team.overdue), *cells)
    return table


@friendly_errors
def collisions() -> None:
    """Collisions ahead among draft and active launches, soonest first: tier 1-2 launches entering
    one phase in one region within days of each other, and phase dates in a freeze or on a
    public holiday."""
    with open_session() as session:
        report = portfolio_collisions(session=session, now=utcnow())
    if not report.collisions:
        console.print(f"no collision ahead (today {report.today:%Y-%m-%d}, window {report.window_days} days)")
        return
    console.print(collisions_table(report.collisions, title=f"Collisions ahead of {report.today:%Y-%m-%d}"))


def collisions_table(found: tuple[Collision, ...], *, title: str) -> Table:
    table = Table(title=escape(title), title_justify="left")
    for column in ("Date", "Kind", "Region", "Phase", "Launches", "What"):
        table.add_column(column)
    for collision in found:
        table.add_row(
            f"{collision.day:%Y-%m-%d}",
            collision.kind.value,
            escape(collision.region),
            collision.phase.value,
            escape(", ".join(collision.slugs)),
            escape(collision.sentence),
        )
    return table


def print_preview(preview: ConflictPreview) -> None:
    """A dry run's answer: what the change would collide with, and that nothing was saved."""
    if preview.conflicts:
        console.print(collisions_table(preview.conflicts, title="It would collide with"))
    if preview.resolved:
        console.print(collisions_table(preview.resolved, title="It would end"))
    console.print(f"[yellow]dry run[/]: {escape(preview.summary)}", highlight=False)
