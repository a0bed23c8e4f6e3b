"""`launchdeck outbox ...`: see queued, sent and dead notification intents; send dead ones again."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import OutboxStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.outbox import list_outbox, retry_dead

app = typer.Typer(
    help="The outbox: side effects queued by changes (Slack messages, rollout steps).", no_args_is_help=True
)
console = Console(soft_wrap=True)


@app.command("list")
@friendly_errors
def outbox_list(
    status: Annotated[OutboxStatus | None, typer.Option(help="Only rows in this status (e.g. dead).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Newest rows first, with attempts and the last error."""
    with open_session() as session:
        rows = list_outbox(session, status=status, limit=limit)
    table = Table(title="Outbox", title_justify="left")
    for column in ("Id", "Topic", "Status", "Attempts", "Created (UTC)", "Last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.topic,
            row.status.value,
            str(row.attempts),
            f"{row.created_at:%Y-%m-%d %H:%M}",
            (row.last_error or "")[:100],
        )
    console.print(table)


@app.command("retry")
@friendly_errors
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Dead rows to send again (ids from `outbox list`).")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Send every dead row again.")] = False,
) -> None:
    """Put dead intents back in the queue; the worker delivers them on its next pass."""
    if not ids and not all_dead:
        raise InvalidInput("ids", "name the rows to retry, or pass --all-dead")
    with open_session() as session:
        count = retry_dead(session, outbox_ids=None if all_dead else list(ids or []), now=utcnow(), actor=cli_actor())
    console.print(f"queued {count} dead row(s) again")
