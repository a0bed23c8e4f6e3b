"""`launchdeck tokens ...` and `launchdeck serve`: API credentials and the API process."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import Role
from orchestrator.directory.tokens import create_token, list_tokens, revoke_token

tokens_app = typer.Typer(help="API tokens: create (printed once), list, revoke.", no_args_is_help=True)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


@tokens_app.command("create")
@friendly_errors
def tokens_create(
    role: Annotated[Role, typer.Option(help="What the token may do.")],
    name: Annotated[str, typer.Option(help="Who or what uses it, e.g. 'ci-bot' or 'ann@example.com'.")],
    team: Annotated[str | None, typer.Option(help="Team key; required for --role member.")] = None,
    member: Annotated[str | None, typer.Option(help="Member email the token acts for (optional).")] = None,
) -> None:
    """Create a token and print only the token on stdout (so `TOKEN=$(launchdeck tokens create ...)`
    works); it is stored hashed and cannot be shown again."""
    with open_session() as session:
        token, secret = create_token(
            session=session, name=name, role=role, team_key=team, member_email=member, actor=cli_actor()
        )
    err_console.print(f"created token {token.id} ({token.prefix}...) for {name} with role {role.value}")
    typer.echo(secret)


@tokens_app.command("list")
@friendly_errors
def tokens_list() -> None:
    """Every token: id, prefix, name, role, team, created, revoked."""
    with open_session() as session:
        tokens = list_tokens(session=session)
    table = Table(title="API tokens", title_justify="left")
    for column in ("Id", "Prefix", "Name", "Role", "Team id", "Created", "Revoked"):
        table.add_column(column)
    for token in tokens:
        table.add_row(
            str(token.id),
            token.prefix,
            token.name,
            token.role.value,
            str(token.team_id or "-"),
            f"{token.created_at:%Y-%m-%d %H:%M}",
            f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "-",
        )
    console.print(table)


@tokens_app.command("revoke")
@friendly_errors
def tokens_revoke(token_id: Annotated[int, typer.Argument(help="The token's id, from `tokens list`.")]) -> None:
    """Revoke a token; requests with it are refused from now on."""
    with open_session() as session:
        token = revoke_token(session=session, token_id=token_id, actor=cli_actor(), now=utcnow())
    console.print(f"revoked token {token.id} ({token.name})")


@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes.")] = 1,
) -> None:
    """Run the HTTP API alone (uvicorn), e.g. behind a load balancer; replicas may share one
    PostgreSQL safely."""
    from cli.context import engine_from_settings
    from cli.serving import serve_factory
    from orchestrator.core.migrate import ensure_schema_current

    engine = engine_from_settings()
    ensure_schema_current(engine)
    engine.dispose()
    console.print(f"API on http://{host}:{port}  (docs: http://{host}:{port}/docs)")
    serve_factory("api.app:serving_app", host=host, port=port, workers=workers)
