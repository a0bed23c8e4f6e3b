"""`launchdeck outbox ...`: see queued, sent and dead notification intents; send dead ones again."""

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import OutboxStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import Outbox
from orchestrator.core.outbox import EVENTS_CURSOR, cursor_position, list_outbox, retry_dead
from orchestrator.core.topics import PUBLISHED_AS_EVENTS
from orchestrator.rollouts.service import TARGET_TOPIC

app = typer.Typer(
    help="The outbox: side effects queued by changes (Slack messages, rollout steps).", no_args_is_help=True
)
console = Console(soft_wrap=True)


def claimed_topics() -> frozenset[str]:
    """Rows a deliverer claims and marks sent or dead: Slack messages and rollout-target exposure.
    Only for these does "pending" mean "not delivered yet"; the others are read once by the Prefect
    events cursor, or by nobody, and keep the status they were queued with. (The composer, which
    knows the Slack topics, is imported only by the commands that need it: it costs every CLI
    start about 0.4 s.)"""
    from notifications.delivery import composer

    return frozenset(composer.TOPICS | {TARGET_TOPIC})


@app.command("list")
@friendly_errors
def outbox_list(
    status: Annotated[
        OutboxStatus | None,
        typer.Option(help="Only Slack and rollout-target rows in this status (pending, dead: what may be stuck)."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Newest rows first, each with its real state: delivered or not (attempts, last error) for
    rows a deliverer claims, emitted or not for rows only published as Prefect events."""
    claimed_by_deliverers = claimed_topics()
    with open_session() as session:
        rows = list_outbox(session, status=status, limit=limit, topics=claimed_by_deliverers if status else None)
        emitted_up_to = cursor_position(session, name=EVENTS_CURSOR)
    table = Table(title="Outbox", title_justify="left")
    for column in ("Id", "Topic", "State", "Attempts", "Created (UTC)", "Delivered (UTC)", "Last error"):
        table.add_column(column)
    for row in rows:
        claimed = row.topic in claimed_by_deliverers
        table.add_row(
            str(row.id),
            row.topic,
            _state(row, claimed=claimed, emitted_up_to=emitted_up_to),
            str(row.attempts) if claimed else "-",
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.delivered_at:%Y-%m-%d %H:%M}" if row.delivered_at else "",
            escape((row.last_error or "")[:100]),
        )
    console.print(table)


def _state(row: Outbox, *, claimed: bool, emitted_up_to: int) -> str:
    """What happened to the row, as its consumer would say it (a published-only row never leaves
    "pending" in the table, so its state is read from the events cursor instead)."""
    if claimed:
        return row.status.value
    if row.topic in PUBLISHED_AS_EVENTS:
        if row.id is not None and row.id <= emitted_up_to:
            return "emitted as Prefect event"
        return "waiting for a worker to emit it as a Prefect event"
    return "recorded only (nothing delivers it)"


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
