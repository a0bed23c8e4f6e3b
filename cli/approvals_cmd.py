"""`launchdeck launch approvers`: who approves a launch's phase, and the quorum, changed with a reason."""

from typing import Annotated

import typer
from rich.console import Console

from cli.context import cli_actor, open_session
from cli.errors import friendly_errors
from orchestrator.core.enums import Phase
from orchestrator.gates.approvers import change_approvers
from orchestrator.launches.queries import launch_id_for

console = Console(soft_wrap=True)


@friendly_errors
def approvers(
    slug: Annotated[str, typer.Argument(help="The launch's slug.")],
    phase: Annotated[Phase, typer.Option(help="The phase whose approval gates change.")],
    approver: Annotated[list[str], typer.Option(help="Member email who approves, repeatable.")],
    reason: Annotated[str, typer.Option(help="Why; votes already cast on these gates become void.")],
    region: Annotated[str | None, typer.Option(help="One region only (default: every region).")] = None,
    quorum: Annotated[int | None, typer.Option(min=1, help="Gos needed (default: every approver).")] = None,
    distinct_teams: Annotated[bool, typer.Option(help="The quorum's Gos must come from distinct teams.")] = False,
) -> None:
    """Change who approves a phase. Gates that passed stay passed; votes already cast on the others
    are void and their approvers are told to vote again."""
    with open_session() as session:
        changed = change_approvers(
            session=session,
            launch_id=launch_id_for(session=session, slug=slug),
            phase=phase,
            approvers=approver,
            actor=cli_actor(),
            reason=reason,
            region=region,
            quorum=quorum,
            distinct_teams=distinct_teams,
        )
    if not changed:
        console.print(f"{slug} {phase.value}: the approvers were already {', '.join(approver)}; nothing changed")
        return
    needed = f"{quorum} of them" if quorum else "all of them"
    console.print(
        f"[green]changed[/] {slug} {phase.value} approvers on {len(changed)} gate(s): {', '.join(approver)} "
        f"({needed}{', from distinct teams' if distinct_teams else ''})"
    )
