"""`launchdeck checklists ...`: validate templates, preview what a launch would get, apply a newer
template to a running launch."""

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from checklists.catalog import Directory, RegionInfo
from checklists.instantiate import apply_library
from checklists.item_text import LaunchFacts
from checklists.planning import RolloutPlan, fill_phase_dates, plan_items, unknown_flags
from cli.context import cli_actor, open_session
from cli.dates import parse_date
from cli.errors import friendly_errors
from cli.library import library_for, library_from_seed
from orchestrator.core.clock import as_utc, due_at, region_moment, zone
from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.settings import get_settings
from orchestrator.directory.seed import load_seed
from orchestrator.launches.spec import ItemSpec

app = typer.Typer(help="Checklist templates: validate, preview, apply.", no_args_is_help=True)
console = Console(soft_wrap=True)


@app.command("validate")
@friendly_errors
def validate(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A directory of your templates, checked on top of the defaults. "
            "Default: LAUNCHDECK_CHECKLISTS_DIR, if set."
        ),
    ] = None,
) -> None:
    """Check every template file; list every problem with its file and line (exit 2 if any)."""
    library = library_from_seed(path)
    by_phase = Counter(item.phase for item in library.items.values())
    blocking = sum(1 for item in library.items.values() if item.gate == "blocking")
    phases = ", ".join(f"{phase.value} {by_phase[phase]}" for phase in Phase.ordered())
    console.print(
        f"[green]ok[/] {len(library.items)} items ({phases}; {blocking} blocking), "
        f"{len(library.flags)} flags, version {library.version}"
    )


@app.command("preview")
@friendly_errors
def preview(
    tier: Annotated[int, typer.Option(min=1, max=3, help="Launch tier (1 = biggest).")],
    regions: Annotated[str, typer.Option(help="Comma-separated region codes, e.g. NA,EU.")],
    flags: Annotated[str, typer.Option(help="Comma-separated launch flags, e.g. personal_data.")] = "",
    internal_date: Annotated[
        str | None, typer.Option(help="Internal phase date (YYYY-MM-DD: 00:00 in each region's timezone).")
    ] = None,
    private_beta_date: Annotated[str | None, typer.Option(help="Private beta date.")] = None,
    public_beta_date: Annotated[str | None, typer.Option(help="Public beta date.")] = None,
    ga_date: Annotated[str | None, typer.Option(help="General availability date.")] = None,
    name: Annotated[str, typer.Option(help="Launch name used in item titles.")] = "New launch",
) -> None:
    """The items a launch would get, per region and phase, with due dates (local and UTC)."""
    library = library_from_seed()
    directory = Directory.from_seed(load_seed(get_settings().seed_file))
    flag_list = [flag.strip() for flag in flags.split(",") if flag.strip()]
    unknown = unknown_flags(library, flag_list)
    if unknown:
        raise InvalidInput(
            "--flags", f"unknown flag(s) {', '.join(unknown)}; known: {', '.join(sorted(library.flags))}"
        )
    given = {
        phase: parsed
        for phase, option, raw in (
            (Phase.INTERNAL, "--internal-date", internal_date),
            (Phase.PRIVATE_BETA, "--private-beta-date", private_beta_date),
            (Phase.PUBLIC_BETA, "--public-beta-date", public_beta_date),
            (Phase.GA, "--ga-date", ga_date),
        )
        if (parsed := parse_date(option, raw)) is not None
    }
    typed, notes = fill_phase_dates(tier=tier, given=given)
    codes = [code.strip() for code in regions.split(",") if code.strip()]
    unknown_regions = [code for code in codes if code not in directory.regions]
    if unknown_regions or not codes:
        raise InvalidInput(
            "--regions",
            f"unknown region(s) {', '.join(unknown_regions) or '(none given)'}; "
            f"known: {', '.join(sorted(directory.regions))}",
        )
    rollouts = {code: RolloutPlan(region=directory.regions[code], phases=frozenset(typed)) for code in codes}
    facts = LaunchFacts(name=name, slug="preview", tier=tier, owner="you", flags=tuple(flag_list))
    specs = plan_items(library, launch=facts, rollouts=rollouts)
    for code in codes:
        console.print(_region_table(directory.regions[code], typed, [spec for spec in specs if spec.region == code]))
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(f"{len(specs)} items from template version {library.version}")


def _region_table(region: RegionInfo, typed: Mapping[Phase, date], specs: list[ItemSpec]) -> Table:
    """One region's items with their due dates; a plain date is the start of that day in this
    region's timezone, as in every door."""
    dates = {
        phase: region_moment(value, timezone=region.timezone, field=f"--{phase.value.replace('_', '-')}-date")
        for phase, value in typed.items()
    }
    order = {phase: index for index, phase in enumerate(Phase.ordered())}
    mine = sorted(specs, key=lambda spec: (order[spec.phase], spec.due_offset_days or 0, spec.key))
    table = Table(title=f"{region.code} ({region.name}, {region.timezone}): {len(mine)} items", title_justify="left")
    for column in ("Phase", "Due (local)", "Due (UTC)", "Owner", "Gate", "Item"):
        table.add_column(column)
    for spec in mine:
        local, utc = _due_columns(dates[spec.phase], spec.due_offset_days, region.timezone)
        gate = "blocking" if spec.blocking else "[dim]advisory[/]"
        evidence = " [dim](evidence)[/]" if spec.evidence_required else ""
        table.add_row(spec.phase.value, local, utc, spec.owner_team, gate, f"{spec.title}{evidence}")
    return table


def _due_columns(phase_at: datetime, offset: int | None, timezone: str) -> tuple[str, str]:
    if offset is None:
        return "-", "-"
    due = due_at(phase_at=phase_at, offset_days=offset, timezone=timezone)
    local = due.astimezone(zone(timezone))
    return f"{local:%Y-%m-%d %H:%M} (T{offset:+d})", f"{as_utc(due):%Y-%m-%d %H:%M}"


@app.command("apply")
@friendly_errors
def apply(
    slug: Annotated[str, typer.Argument(help="The launch to bring up to the current templates.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; change nothing.")] = False,
) -> None:
    """Apply the current templates to a running launch: add new items, update open ones, retire
    open items the templates dropped (as n/a). Done, waived and n/a items are never touched."""
    with open_session() as session:
        library = library_for(session)
        result = apply_library(session=session, slug=slug, library=library, actor=cli_actor(), dry_run=dry_run)
    verb = "would change" if dry_run else "changed"
    console.print(
        f"{slug}: {verb} {result.changes} item(s) to template {library.version}: "
        f"{len(result.added)} added, {len(result.updated)} updated, {len(result.retired)} retired"
    )
    for label, keys in (("added", result.added), ("updated", result.updated), ("retired", result.retired)):
        for key in keys:
            console.print(f"  {label}: {key}")
    if result.kept_done:
        console.print(f"  {len(result.kept_done)} finished item(s) differ from the template and were left as they are")
