"""`launchdeck`: set up the database, create and inspect launches, manage checklist templates."""

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from checklists.instantiate import create_launch_from_templates
from cli import (
    api_cmd,
    approvals_cmd,
    beta_cmd,
    blockers_cmd,
    checklists_cmd,
    exposure_cmd,
    forecast_cmd,
    item_cmd,
    outbox_cmd,
    planning_cmd,
    retro_cmd,
    rollout_cmd,
    slack_applier_cmd,
    vote_cmd,
    worker_cmd,
)
from cli import demo as demo_cmd
from cli.context import cli_actor, engine_from_settings, open_session
from cli.dates import parse_date
from cli.errors import friendly_errors
from cli.library import library_for
from cli.tables import launch_panel, launches_table
from orchestrator.core.clock import utcnow
from orchestrator.core.db import session_scope
from orchestrator.core.enums import LaunchStatus, Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.migrate import current_revision, head_revision, upgrade
from orchestrator.core.settings import get_settings
from orchestrator.directory.queries import region_timezones
from orchestrator.directory.seed import load_seed
from orchestrator.directory.service import apply_seed
from orchestrator.launches.queries import launch_detail, list_launches, rollout_id_for
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from orchestrator.launches.spec import LaunchSpec, launch_spec
from orchestrator.planning.conflicts import preview_new_launch, preview_reschedule

app = typer.Typer(
    help="launchdeck: launch readiness and regional beta rollouts, gated and audited.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database schema: upgrade and inspect.", no_args_is_help=True)
launch_app = typer.Typer(help="Create and inspect launches.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(launch_app, name="launch")
app.add_typer(checklists_cmd.app, name="checklists")
app.command("worker")(worker_cmd.worker)
app.command("up")(worker_cmd.up)
app.command("demo")(demo_cmd.demo)
app.add_typer(api_cmd.tokens_app, name="tokens")
app.command("serve")(api_cmd.serve)
app.command("slack-applier")(slack_applier_cmd.slack_applier)
app.add_typer(outbox_cmd.app, name="outbox")
app.add_typer(exposure_cmd.app, name="exposure")
app.add_typer(beta_cmd.app, name="beta")
app.add_typer(item_cmd.app, name="item")
app.command("vote")(vote_cmd.vote)
launch_app.command("approvers")(approvals_cmd.approvers)
launch_app.command("blockers")(blockers_cmd.show_blockers)
launch_app.command("forecast")(forecast_cmd.show_forecast)
launch_app.command("retro")(retro_cmd.show_retro)
launch_app.command("halt")(rollout_cmd.halt)
launch_app.command("resume")(rollout_cmd.resume)
launch_app.command("rollback")(rollout_cmd.rollback)
launch_app.command("timeline")(planning_cmd.timeline)
app.command("load")(planning_cmd.load)
app.command("collisions")(planning_cmd.collisions)

console = Console(soft_wrap=True)


@app.command()
@friendly_errors
def init(
    seed: Annotated[
        Path | None,
        typer.Option(help="YAML with teams, regions and members; default: LAUNCHDECK_SEED_FILE or the built-in set."),
    ] = None,
) -> None:
    """Create or upgrade the database and load teams and regions. Safe to run again."""
    config = load_seed(seed or get_settings().seed_file)
    engine = engine_from_settings()
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            result = apply_seed(session=session, config=config, actor=cli_actor())
    finally:
        engine.dispose()
    console.print(
        f"[green]ready[/] database {engine.url.render_as_string(hide_password=True)} "
        f"at schema {head_revision()}; "
        f"directory: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    )


@db_app.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply every pending migration."""
    engine = engine_from_settings()
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before == after:
        console.print(f"already at schema {after}")
    else:
        console.print(f"[green]upgraded[/] schema {before or '(empty)'} -> {after}")


@db_app.command("current")
@friendly_errors
def db_current() -> None:
    """Show the database's schema revision and the one this launchdeck expects."""
    engine = engine_from_settings()
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    console.print(f"database: {current or '(no schema)'}  expected: {head_revision()}")


@launch_app.command("list")
@friendly_errors
def launch_list(
    status: Annotated[LaunchStatus | None, typer.Option(help="Only launches in this status.")] = None,
) -> None:
    """Every launch with its tier, status, regions and open blocking items."""
    with open_session() as session:
        launches = list_launches(session=session, status=status)
    if not launches:
        console.print("no launches yet; create one with `launchdeck launch create --help`")
        return
    console.print(launches_table(launches))


@launch_app.command("show")
@friendly_errors
def launch_show(slug: Annotated[str, typer.Argument(help="The launch's slug, as in `launch list`.")]) -> None:
    """One launch: each region's state, phase, exposure, open gates, dates and slips."""
    with open_session() as session:
        detail = launch_detail(session=session, slug=slug)
    console.print(launch_panel(detail))


@launch_app.command("kickoff")
@friendly_errors
def launch_kickoff(slug: Annotated[str, typer.Argument(help="The launch's slug.")]) -> None:
    """Start a draft launch: every region opens the gates of its first phase."""
    with open_session() as session:
        detail = launch_detail(session=session, slug=slug)
        assert detail.launch.id is not None
        kick_off_launch(session=session, launch_id=detail.launch.id, actor=cli_actor())
    console.print(f"[green]kicked off[/] {slug}; see `launchdeck launch show {slug}`")


SkipOption = Annotated[
    list[Phase] | None,
    typer.Option(
        help="A phase every region skips, repeatable: --skip public_beta. Every phase needs a date or a --skip."
    ),
]
TargetOption = Annotated[
    str | None,
    typer.Option(
        help="Where exposure changes go: recording, webhook, flagd or unleash (default: "
        "LAUNCHDECK_ROLLOUT_TARGET); it must be configured."
    ),
]
FlagKeyOption = Annotated[
    str | None, typer.Option(help="The feature flag the ramp moves in the target (default: the slug).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Save nothing; print the collisions it would cause instead.")
]


@launch_app.command("create")
@friendly_errors
def launch_create(
    slug: Annotated[str, typer.Argument(help="Short id: lowercase letters, digits, dashes.")],
    name: Annotated[str, typer.Option(help="Human name of the launch.")],
    tier: Annotated[int, typer.Option(min=1, max=3, help="1 = biggest launch.")],
    owner: Annotated[str, typer.Option(help="Who owns the launch (email).")],
    regions: Annotated[str, typer.Option(help="Comma-separated region codes, e.g. NA,EU,APAC.")],
    internal: Annotated[str | None, typer.Option(help="Internal phase date (YYYY-MM-DD, each region's day).")] = None,
    private_beta: Annotated[str | None, typer.Option(help="Private beta date.")] = None,
    public_beta: Annotated[str | None, typer.Option(help="Public beta date.")] = None,
    ga: Annotated[str | None, typer.Option(help="General availability date.")] = None,
    flags: Annotated[
        str, typer.Option(help="Comma-separated launch flags that select checklist items, e.g. personal_data.")
    ] = "",
    exec_sponsor: Annotated[str | None, typer.Option(help="Executive sponsor (email).")] = None,
    beta_exit: Annotated[
        list[str] | None,
        typer.Option(
            help="Exit criteria of a beta phase, repeatable: "
            "private_beta:open_severity_1=0,active_accounts=20 (metrics: open_severity_1, active_accounts, fix_weeks)."
        ),
    ] = None,
    skip: SkipOption = None,
    approver: Annotated[
        list[str] | None,
        typer.Option(help="Member email who must vote Go on the approval gates, repeatable (kickoff needs one)."),
    ] = None,
    target: TargetOption = None,
    flag_key: FlagKeyOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Create a launch (draft) with the same phase dates in every region, each read in the region's
    timezone, and its checklist items from the templates for its tier, regions and flags. A phase
    is skipped only when named with --skip: a date left out is refused, never a silent skip. With
    --dry-run nothing is created: it prints the collisions the launch would cause."""
    dates = _phase_dates(internal=internal, private_beta=private_beta, public_beta=public_beta, ga=ga)
    codes = [code.strip() for code in regions.split(",") if code.strip()]
    spec = _launch_spec(
        timezones=_timezones(),
        slug=slug,
        name=name,
        tier=tier,
        owner=owner,
        exec_sponsor=exec_sponsor,
        flags=flags,
        codes=codes,
        dates=dates,
        skip=skip or [],
        beta_exit=beta_exit or [],
        approvers=approver or [],
        target=target,
        flag_key=flag_key,
    )
    _create_or_preview(spec, codes, dry_run=dry_run)


def _create_or_preview(spec: LaunchSpec, codes: list[str], *, dry_run: bool) -> None:
    """Create the launch, or (a dry run) print the collisions it would cause and save nothing."""
    with open_session() as session:
        if dry_run:
            planning_cmd.print_preview(preview_new_launch(session=session, spec=spec, actor=cli_actor(), now=utcnow()))
            return
        library = library_for(session)
        launch = create_launch_from_templates(session=session, spec=spec, library=library, actor=cli_actor())
        items = launch_detail(session=session, slug=launch.slug)
    count = sum(rollout.items_total for rollout in items.rollouts)
    console.print(
        f"[green]created[/] launch {launch.slug} (draft) in {', '.join(codes)} with {count} checklist items "
        f"from template {launch.template_version}"
    )


def _timezones() -> dict[str, str]:
    """Each region's timezone, which its plain dates are read in."""
    with open_session() as session:
        return region_timezones(session=session)


def _phase_dates(
    *, internal: str | None, private_beta: str | None, public_beta: str | None, ga: str | None
) -> dict[Phase, date | datetime]:
    """The phase dates given as options, parsed (a plain date stays a day, which each region reads
    in its own timezone); at least one is needed."""
    given = {
        Phase.INTERNAL: ("--internal", internal),
        Phase.PRIVATE_BETA: ("--private-beta", private_beta),
        Phase.PUBLIC_BETA: ("--public-beta", public_beta),
        Phase.GA: ("--ga", ga),
    }
    dates: dict[Phase, date | datetime] = {}
    for phase, (option, raw) in given.items():
        parsed = parse_date(option, raw)
        if parsed is not None:
            dates[phase] = parsed
    if not dates:
        raise InvalidInput("dates", "give at least one of --internal, --private-beta, --public-beta, --ga")
    return dates


def _launch_spec(
    *,
    timezones: Mapping[str, str],
    slug: str,
    name: str,
    tier: int,
    owner: str,
    exec_sponsor: str | None,
    flags: str,
    codes: list[str],
    dates: dict[Phase, date | datetime],
    skip: list[Phase],
    beta_exit: list[str],
    approvers: list[str],
    target: str | None = None,
    flag_key: str | None = None,
) -> LaunchSpec:
    """The spec from the options, or its first validation error as an InvalidInput naming the
    field (so the CLI answers like every other door instead of printing pydantic's report)."""
    try:
        # Validated as one body, so the first error is the first field's (the slug before a region's dates).
        return launch_spec(
            {
                "slug": slug,
                "name": name,
                "tier": tier,
                "owner": owner,
                "exec_sponsor": exec_sponsor,
                "flags": [flag.strip() for flag in flags.split(",") if flag.strip()],
                "regions": [{"region": code, "dates": dates, "skip": skip} for code in codes],
                "beta_exit_criteria": beta_cmd.parse_exit_criteria(beta_exit),
                "approvers": approvers,
                "rollout_target": target,
                "flag_key": flag_key,
            },
            timezones=timezones,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "launch"
        raise InvalidInput(field, first["msg"].removeprefix("Value error, ")) from None


@launch_app.command("reschedule")
@friendly_errors
def launch_reschedule(
    slug: Annotated[str, typer.Argument(help="The launch's slug.")],
    region: Annotated[str, typer.Option(help="Region code, e.g. EU.")],
    phase: Annotated[Phase, typer.Option(help="The phase whose date moves.")],
    date: Annotated[
        str, typer.Option(help="New date: YYYY-MM-DD (00:00 in the region's timezone) or ISO 8601 with an offset.")
    ],
    reason: Annotated[str, typer.Option(help="Why it moves; shown wherever the slip is.")] = "",
    dry_run: DryRunOption = False,
) -> None:
    """Move one region's phase date; its open items' due dates move with it and the slip is kept.
    With --dry-run nothing moves: it prints the collisions the new date would cause and end."""
    new_at = parse_date("--date", date)
    assert new_at is not None
    with open_session() as session:
        rollout_id = rollout_id_for(session=session, slug=slug, region=region)
        if dry_run:
            preview = preview_reschedule(
                session=session, rollout_id=rollout_id, phase=phase, new_at=new_at, actor=cli_actor(), now=utcnow()
            )
            planning_cmd.print_preview(preview)
            return
        reschedule_phase(
            session=session, rollout_id=rollout_id, phase=phase, new_at=new_at, actor=cli_actor(), reason=reason
        )
    console.print(f"[green]rescheduled[/] {slug} {region} {phase.value} to {new_at:%Y-%m-%d}")
