"""`launchdeck`: set up the database, inspect launches (more commands arrive with each package)."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from cli.context import cli_actor, engine_from_settings, open_session
from cli.errors import friendly_errors
from cli.render import launch_panel, launches_table
from orchestrator.db import session_scope
from orchestrator.enums import LaunchStatus, Phase
from orchestrator.errors import InvalidInput
from orchestrator.migrate import current_revision, head_revision, upgrade
from orchestrator.queries import launch_detail, list_launches
from orchestrator.seed import load_seed
from orchestrator.services.directory import apply_seed
from orchestrator.services.launches import LaunchSpec, RegionPlan, create_launch, kick_off_launch
from orchestrator.settings import get_settings

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

console = Console(soft_wrap=True)


@app.command()
@friendly_errors
def init(
    seed: Annotated[
        Path | None,
        typer.Option(
            help="YAML with teams, regions and members; default: LAUNCHDECK_SEED_FILE or the built-in set."
        ),
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


@launch_app.command("create")
@friendly_errors
def launch_create(
    slug: Annotated[str, typer.Argument(help="Short id: lowercase letters, digits, dashes.")],
    name: Annotated[str, typer.Option(help="Human name of the launch.")],
    tier: Annotated[int, typer.Option(min=1, max=3, help="1 = biggest launch.")],
    owner: Annotated[str, typer.Option(help="Who owns the launch (email).")],
    regions: Annotated[str, typer.Option(help="Comma-separated region codes, e.g. NA,EU,APAC.")],
    internal: Annotated[str | None, typer.Option(help="Internal phase date (YYYY-MM-DD, UTC).")] = None,
    private_beta: Annotated[str | None, typer.Option(help="Private beta date.")] = None,
    public_beta: Annotated[str | None, typer.Option(help="Public beta date.")] = None,
    ga: Annotated[str | None, typer.Option(help="General availability date.")] = None,
) -> None:
    """Create a launch (draft) with the same phase dates in every region."""
    given = {
        Phase.INTERNAL: ("--internal", internal),
        Phase.PRIVATE_BETA: ("--private-beta", private_beta),
        Phase.PUBLIC_BETA: ("--public-beta", public_beta),
        Phase.GA: ("--ga", ga),
    }
    dates: dict[Phase, datetime] = {}
    for phase, (option, raw) in given.items():
        parsed = _as_utc_date(option, raw)
        if parsed is not None:
            dates[phase] = parsed
    if not dates:
        raise InvalidInput("dates", "give at least one of --internal, --private-beta, --public-beta, --ga")
    codes = [code.strip() for code in regions.split(",") if code.strip()]
    try:
        spec = LaunchSpec(
            slug=slug,
            name=name,
            tier=tier,
            owner=owner,
            regions=[RegionPlan(region=code, dates=dates) for code in codes],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "launch"
        raise InvalidInput(field, first["msg"]) from None
    with open_session() as session:
        launch = create_launch(session=session, spec=spec, actor=cli_actor())
    console.print(f"[green]created[/] launch {launch.slug} (draft) in {', '.join(codes)}")


def _as_utc_date(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            option, f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 timestamp"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
