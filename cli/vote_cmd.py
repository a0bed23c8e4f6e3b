"""`launchdeck vote`: a Go, Conditional Go or No-Go on a region's approval gate, through the same
service as the API and Slack (``orchestrator.gates.approvals.cast_vote``).

A vote counts for the person who casts it. The CLI's actor (``cli_actor``) is the server's
operator, not a member of the directory, so from the terminal a vote is recorded *on behalf of*
its approver (--on-behalf-of, with --on-behalf-reason), as product ops do after a go/no-go
meeting; without it the policy refuses, saying so.
"""

from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session, select

from cli.context import cli_actor, open_session
from cli.dates import parse_date
from cli.errors import friendly_errors
from orchestrator.core.enums import GateKind, Phase, Vote
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import Gate
from orchestrator.gates.approvals import cast_vote
from orchestrator.launches.queries import rollout_id_for
from orchestrator.reporting.blockers import parse_phase

console = Console(soft_wrap=True)


class VoteChoice(StrEnum):
    GO = "go"
    CONDITIONAL_GO = "conditional-go"
    NO_GO = "no-go"

    @property
    def vote(self) -> Vote:
        return Vote(self.value.replace("-", "_"))


def approval_gate_id(session: Session, *, slug: str, region: str, phase: str) -> int:
    """The approval gate of launch ``slug`` in ``region`` for ``phase``; InvalidInput names the
    phases of the region that have one."""
    wanted = parse_phase(phase)
    rollout_id = rollout_id_for(session=session, slug=slug, region=region)
    rows = session.exec(
        select(Gate.phase, Gate.id).where(Gate.rollout_id == rollout_id, Gate.kind == GateKind.APPROVAL)
    ).all()
    gates = {Phase(gate_phase): gate_id for gate_phase, gate_id in rows if gate_id is not None}
    if wanted not in gates:
        having = ", ".join(p.value for p in Phase.ordered() if p in gates) or "none"
        raise InvalidInput(
            "--phase", f"{slug} {region} has no approval gate for {wanted.value}; phases with one: {having}"
        )
    return gates[wanted]


@friendly_errors
def vote(
    slug: Annotated[str, typer.Argument(help="The launch's slug.")],
    choice: Annotated[VoteChoice, typer.Argument(metavar="go|conditional-go|no-go", help="The vote.")],
    region: Annotated[str, typer.Option(help="Region code, e.g. EU.")],
    phase: Annotated[str, typer.Option(help="The phase whose approval gate is voted on, e.g. ga.")],
    conditions: Annotated[str | None, typer.Option(help="Conditional Go: the conditions accepted.")] = None,
    risk_owner: Annotated[str | None, typer.Option(help="Conditional Go: who accepts the risk (email).")] = None,
    reason: Annotated[str | None, typer.Option(help="A comment kept with the vote (why).")] = None,
    reevaluate_on: Annotated[
        str | None,
        typer.Option(help="No-Go: when the region is looked at again: YYYY-MM-DD (00:00 there) or ISO 8601."),
    ] = None,
    on_behalf_of: Annotated[str | None, typer.Option(help="The approver (email) whose vote this is.")] = None,
    on_behalf_reason: Annotated[
        str | None, typer.Option(help="Where the vote was given, e.g. go/no-go meeting.")
    ] = None,
) -> None:
    """Vote on a region's approval gate for a phase. Conditional Go needs --conditions and
    --risk-owner; No-Go needs --reevaluate-on. From the terminal the vote is recorded on behalf of
    its approver: --on-behalf-of EMAIL --on-behalf-reason TEXT."""
    reevaluate_at = parse_date("--reevaluate-on", reevaluate_on)
    with open_session() as session:
        gate_id = approval_gate_id(session, slug=slug, region=region, phase=phase)
        decision = cast_vote(
            session=session,
            gate_id=gate_id,
            vote=choice.vote,
            actor=cli_actor(),
            on_behalf_of=on_behalf_of,
            on_behalf_reason=on_behalf_reason,
            comment=reason,
            conditions=conditions,
            risk_accepted_by=risk_owner,
            reevaluate_at=reevaluate_at,
        )
    by = f" (recorded by {decision.recorded_by})" if decision.recorded_by else ""
    console.print(
        f"[green]voted[/] {escape(decision.voter)} {decision.vote.value} on {slug} {region} {phase}{escape(by)}; "
        f"see `launchdeck launch blockers {slug} --region {region} --phase {phase}`"
    )
