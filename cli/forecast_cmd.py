"""`launchdeck launch forecast`: when each region's next gate's blocking items will be done at the
recent rate, what else the gate waits for, and the forecasts recorded so far. Asking records the
forecast (once per region, day and outcome, as the hourly flow does), so its accuracy can be shown
in the retro; `--no-record` only reads."""

from typing import Annotated

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from api.schemas.forecasts import ForecastOut
from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.forecasts.service import RecordRun, record_forecasts
from orchestrator.forecasts.view import LaunchForecast, launch_forecast
from orchestrator.launches.queries import launch_id_for

console = Console(soft_wrap=True)
HISTORY_PRINTED = 10


@friendly_errors
def show_forecast(
    slug: Annotated[str, typer.Argument(help="The launch's slug.")],
    record: Annotated[
        bool, typer.Option("--record/--no-record", help="Record this forecast (default) or only read.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="The API's answer (GET /launches/{slug}/forecast) as JSON.")
    ] = False,
) -> None:
    """Each region's next gate: projected done date at the last two weeks' rate against the phase
    date (a miss turns the launch's RAG amber), the votes and beta exit criteria still missing, and
    the newest recorded forecasts."""
    now = utcnow()
    run = None
    with open_session() as session:
        if record:
            launch_id = launch_id_for(session=session, slug=slug)
            run = record_forecasts(session=session, now=now, actor=cli_actor(), launch_ids=[launch_id])
        found = launch_forecast(session=session, slug=slug, now=now)
    if as_json:
        typer.echo(ForecastOut.of(found).model_dump_json(indent=2))
        return
    console.print(forecast_view(found, run))


def forecast_view(found: LaunchForecast, run: RecordRun | None) -> Group:
    parts: list[object] = [f"[bold]{escape(found.slug)}[/] readiness forecast, {found.generated_at:%Y-%m-%d %H:%M} UTC"]
    if not found.regions:
        parts.append("no gate left to forecast")
    else:
        parts.append(_regions_table(found))
    parts += [f"[yellow]{escape(miss)}[/]" for miss in found.misses]
    if run is not None:
        parts.append(f"recorded {run.made} forecast(s), {run.new} new today")
    if found.history:
        parts.append(_history_table(found))
    return Group(*parts)  # type: ignore[arg-type]


def _regions_table(found: LaunchForecast) -> Table:
    table = Table(title="Next gates", title_justify="left")
    for column in ("Region", "Phase", "Phase date", "Open", "Per day", "Projected done", "Days late", "Also waits for"):
        table.add_column(column, justify="right" if column in ("Open", "Per day", "Days late") else "left")
    for region in found.regions:
        p = region.projection
        projected = "done" if p.done else (f"{p.projected_at:%Y-%m-%d}" if p.projected_at else "no projection")
        late = "-" if p.days_late is None else (f"[red]{p.days_late}[/]" if p.misses else str(p.days_late))
        table.add_row(
            escape(p.region),
            p.phase.value,
            f"{p.phase_at:%Y-%m-%d}" if p.phase_at else "-",
            str(p.open_blocking),
            f"{p.rate_per_day:.2f}",
            projected,
            late,
            escape("; ".join(region.conditions) or "-"),
        )
    return table


def _history_table(found: LaunchForecast) -> Table:
    table = Table(title=f"Recorded (newest {HISTORY_PRINTED})", title_justify="left")
    for column in ("Made (UTC)", "Region", "Phase", "Phase date", "Open", "Projected done"):
        table.add_column(column)
    for row in found.history[:HISTORY_PRINTED]:
        projected = f"{row.projected_at:%Y-%m-%d}" if row.projected_at else ("done" if not row.open_blocking else "-")
        table.add_row(
            f"{row.made_at:%Y-%m-%d %H:%M}",
            escape(row.region),
            row.phase.value,
            f"{row.phase_at:%Y-%m-%d}",
            str(row.open_blocking),
            projected,
        )
    return table
