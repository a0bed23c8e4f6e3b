"""`launchdeck launch retro`: the post-launch retro of a launch (any launch: one not completed shows
its figures so far), as tables, as Markdown (`--markdown`, the dashboard's export) or as the API's
JSON (`--json`)."""

from typing import Annotated

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from api.schemas.retros import RetroOut
from cli.context import open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.retros.markdown import duration_words, last_closed_words, retro_markdown, when
from orchestrator.retros.retro import Retro, launch_retro

console = Console(soft_wrap=True)


@friendly_errors
def show_retro(
    slug: Annotated[str, typer.Argument(help="The launch's slug.")],
    markdown: Annotated[bool, typer.Option("--markdown", help="The retro as Markdown (GET .../retro.md).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The API's answer (GET /launches/{slug}/retro).")] = False,
) -> None:
    """Time at each gate and in each ramp, the bottleneck teams, slips, waivers and conditional
    Gos, overdue items per team, forecast accuracy, and beta feedback with the time to fix
    severity 1."""
    with open_session() as session:
        retro = launch_retro(session=session, slug=slug, now=utcnow())
    if markdown:
        typer.echo(retro_markdown(retro), nl=False)
    elif as_json:
        typer.echo(RetroOut.of(retro).model_dump_json(indent=2))
    else:
        console.print(retro_view(retro))


def retro_view(retro: Retro) -> Group:
    state = f"completed {when(retro.completed_at)}" if retro.complete else f"{retro.status.value}: figures so far"
    header = (
        f"[bold]{escape(retro.name)}[/] ({escape(retro.slug)}) retro: {state}, {duration_words(retro.duration)} in all"
    )
    times = _table("Time at each gate and in each ramp", ("Region", "Phase", "At the gate", "Held by", "Ramp", "Live"))
    for row in retro.phases:
        held = row.held_by.value if row.held_by and row.ready_at else "-"
        times.add_row(
            row.region,
            row.phase.value,
            duration_words(row.at_gate),
            held,
            duration_words(row.in_ramp),
            when(row.live_at),
        )
    bottlenecks = _table("Bottlenecks", ("Region", "Phase", "Team", "Last closed"))
    for b in retro.bottlenecks:
        bottlenecks.add_row(b.region, b.phase.value, escape(b.team), escape(last_closed_words(b)))
    overdue = _table("Overdue items per team", ("Team", "Items", "Overdue", "Overdue blocking"))
    for t in retro.overdue:
        overdue.add_row(escape(t.team), str(t.items), str(t.overdue), str(t.overdue_blocking))
    lines = [f"slip: {s.region} {s.phase.value} {s.days:+d} days: {escape(s.reason)}" for s in retro.slips]
    lines += [f"waiver: {w.region} {w.phase.value} {escape(w.item)}: {escape(w.reason)}" for w in retro.waivers]
    lines += [
        f"conditional Go: {c.region} {c.phase.value} {escape(c.voter)}: {escape(c.conditions)}"
        for c in retro.conditional_gos
    ]
    if retro.accuracy_mean_abs_days is not None:
        lines.append(f"forecasts were off by {retro.accuracy_mean_abs_days:.1f} days on average")
    lines += [
        f"beta {b.region}: {b.reports} reports, {b.issues} issues, {b.severity_1} severity 1 "
        f"({b.severity_1_open} open), median time to fix {duration_words(b.median_fix)}"
        for b in retro.beta
    ]
    return Group(header, times, bottlenecks, overdue, "\n".join(lines))


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    return table
