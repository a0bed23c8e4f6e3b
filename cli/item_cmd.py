"""`launchdeck item ...`: the changes the API's item routes make (check, uncheck, block, waive,
evidence, assign), through the same services, so the same rules and messages apply.

Who acts is ``cli_actor``: the operator at the server's terminal, trusted by the access policy like
launchdeck's own processes (see ``orchestrator.core.policy``); what the state machine and the
item's rules refuse (a dependency not done, evidence missing, a repeat) is refused here as there.
"""

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cli.context import cli_actor, open_session
from cli.dates import parse_date
from cli.errors import friendly_errors
from orchestrator.directory.queries import member_id_for
from orchestrator.items import details as item_details
from orchestrator.items import service as item_services
from orchestrator.items.locking import ItemChange

app = typer.Typer(
    help="Change one checklist item (by id, as `launch blockers` and the API show it).", no_args_is_help=True
)
console = Console(soft_wrap=True)

ItemId = Annotated[int, typer.Argument(min=1, help="The item's id.")]
Version = Annotated[int | None, typer.Option(min=1, help="The version you read; a newer one is refused.")]


def _said(change: ItemChange, what: str) -> None:
    item, owner = change.item, change.owner
    label = f"item {item.id} {item.key} ({owner.region} {item.phase.value}, {owner.owner_team})"
    if not change.changed:
        console.print(f"{escape(label)}: already so; nothing changed")
        return
    console.print(f"[green]{what}[/] {escape(label)}: now {item.status.value} (version {item.version})")


@app.command("check")
@friendly_errors
def check(
    item_id: ItemId,
    evidence: Annotated[str | None, typer.Option(help="Evidence link (http/https), needed by some items.")] = None,
    version: Version = None,
) -> None:
    """Mark the item done. It waits for the items it depends on; the check-off that completes a
    gate passes it."""
    with open_session() as session:
        change = item_services.check_item(
            session=session, item_id=item_id, actor=cli_actor(), evidence_url=evidence, expected_version=version
        )
    _said(change, "checked")


@app.command("uncheck")
@friendly_errors
def uncheck(
    item_id: ItemId,
    reason: Annotated[str | None, typer.Option(help="Why it is reopened (kept in the audit trail).")] = None,
    version: Version = None,
) -> None:
    """Reopen a done, waived or n/a item (its waivers are revoked). A gate it already passed stays
    passed; the reopening is raised as an alert instead."""
    with open_session() as session:
        change = item_services.reopen_item(
            session=session, item_id=item_id, actor=cli_actor(), reason=reason, expected_version=version
        )
    _said(change, "reopened")


@app.command("block")
@friendly_errors
def block(
    item_id: ItemId,
    reason: Annotated[str, typer.Option(help="What blocks it; a blocked blocking item turns the launch red.")],
    version: Version = None,
) -> None:
    """Mark the item blocked and say by what."""
    with open_session() as session:
        change = item_services.block_item(
            session=session, item_id=item_id, actor=cli_actor(), reason=reason, expected_version=version
        )
    _said(change, "blocked")


@app.command("waive")
@friendly_errors
def waive(
    item_id: ItemId,
    reason: Annotated[str, typer.Option(help="Why the risk of not doing it is accepted.")],
    expires: Annotated[
        str | None,
        typer.Option(help="When the waiver lapses: YYYY-MM-DD (00:00 in the item's region) or ISO 8601."),
    ] = None,
    version: Version = None,
) -> None:
    """Accept the risk of not doing the item (a waiver can open a gate)."""
    expires_at = parse_date("--expires", expires)
    with open_session() as session:
        change = item_services.waive_item(
            session=session,
            item_id=item_id,
            actor=cli_actor(),
            reason=reason,
            expires_at=expires_at,
            expected_version=version,
        )
    _said(change, "waived")


@app.command("evidence")
@friendly_errors
def evidence(
    item_id: ItemId,
    url: Annotated[str, typer.Argument(help="The evidence link (http/https).")],
    version: Version = None,
) -> None:
    """Attach or replace the evidence link without changing the status (same link again: no-op)."""
    with open_session() as session:
        change = item_details.attach_evidence(
            session=session, item_id=item_id, url=url, actor=cli_actor(), expected_version=version
        )
    _said(change, "evidence attached to")


@app.command("assign")
@friendly_errors
def assign(
    item_id: ItemId,
    email: Annotated[str | None, typer.Argument(help="The member's email; leave out with --nobody.")] = None,
    nobody: Annotated[bool, typer.Option("--nobody", help="Take the item back from whoever has it.")] = False,
    version: Version = None,
) -> None:
    """Give the item to a member of the directory (by email), or take it back with --nobody."""
    if (email is None) == (not nobody):
        raise typer.BadParameter("give the member's email, or --nobody (not both)")
    with open_session() as session:
        assignee_id = member_id_for(session=session, email=email) if email is not None else None
        change = item_details.assign_item(
            session=session, item_id=item_id, assignee_id=assignee_id, actor=cli_actor(), expected_version=version
        )
    _said(change, f"assigned to {email}" if email else "unassigned")
