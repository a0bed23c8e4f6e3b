"""`launchdeck launch blockers`: what keeps one region of a launch from a phase, as tables and
sentences (or, with --json, the same read model the API answers)."""

from typing import Annotated

import typer
from pydantic import TypeAdapter
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from cli.context import open_session
from cli.errors import friendly_errors
from orchestrator.core.clock import utcnow
from orchestrator.reporting.blockers import Blockers, blockers
from orchestrator.reporting.blockers_words import when

console = Console(soft_wrap=True)


@friendly_errors
def show_blockers(
    slug: Annotated[str, typer.Argument(help="The launch's slug.")],
    region: Annotated[str, typer.Option(help="Region code, e.g. EU.")],
    phase: Annotated[str, typer.Option(help="The phase: internal, private_beta, public_beta or ga.")],
    as_json: Annotated[bool, typer.Option("--json", help="The read model as JSON, for scripts.")] = False,
) -> None:
    """Everything that keeps a region from a phase: open blocking items (owner, assignee, due,
    days late, dependencies), votes, the phase date, the wave, beta exit criteria, and when the
    worker next acts."""
    with open_session() as session:
        found = blockers(session=session, slug=slug, region=region, phase=phase, now=utcnow())
    if as_json:
        typer.echo(TypeAdapter(Blockers).dump_json(found, indent=2).decode())
        return
    console.print(blockers_view(found))


def blockers_view(found: Blockers) -> Group:
    state = found.state.value + (f" ({found.halt_reason})" if found.halt_reason else "")
    current = found.current_phase.value if found.current_phase else "-"
    header = (
        f"[bold]{escape(found.slug)} {escape(found.region)} -> {found.phase.value}[/]  "
        f"region {escape(state)} in {current}"
    )
    parts: list[object] = [header]
    if found.items:
        parts.append(_items_table(found))
    parts.append(_conditions_table(found))
    parts.append("\n".join(f"- {escape(reason)}" for reason in found.reasons))
    return Group(*parts)  # type: ignore[arg-type]


def _items_table(found: Blockers) -> Table:
    table = Table(title="Open blocking items", title_justify="left")
    for column in ("Id", "Key", "Status", "Team", "Assignee", "Due (UTC)", "Days late", "Waits for"):
        table.add_column(column, justify="right" if column in ("Id", "Days late") else "left")
    for item in found.items:
        waits = ", ".join(
            f"{dep.key} ({dep.status.value if dep.status else 'missing'})" for dep in item.depends_on if not dep.done
        )
        table.add_row(
            str(item.id),
            escape(item.key),
            item.status.value,
            escape(item.owner_team),
            escape(item.assignee_email or "-"),
            f"{item.due_at:%Y-%m-%d %H:%M}" if item.due_at else "-",
            f"[red]{item.days_late}[/]" if item.overdue else "0",
            escape(waits or "-"),
        )
    return table


def _conditions_table(found: Blockers) -> Table:
    table = Table(title="Gate conditions", title_justify="left")
    for column in ("Condition", "Met", "Details"):
        table.add_column(column)
    yes, no = "[green]yes[/]", "[red]no[/]"
    table.add_row("checklist", no if found.items else yes, f"{len(found.items)} open blocking item(s)")
    if found.approval is not None:
        approval = found.approval
        votes = ", ".join(f"{v.voter} {v.vote.value}" + ("" if v.counts else " (not counted)") for v in approval.votes)
        missing = ", ".join(approval.missing) or "-"
        detail = f"{len(approval.gos)} of {approval.needed} Gos; votes: {votes or 'none'}; missing: {missing}"
        table.add_row("approval", yes if approval.holds else no, escape(detail))
    if found.time is not None:
        time = found.time
        detail = f"phase date {when(time.phase_at)}" if time.phase_at else "no date"
        if time.opens_at is not None and time.opens_at != time.phase_at:
            detail += f"; window opens {when(time.opens_at)}"
        table.add_row("time", yes if time.reached else no, detail)
    wave = found.wave
    waits = f"waits for {', '.join(wave.waiting_for)}" if wave.waiting_for else "nothing to wait for"
    table.add_row("wave", no if wave.waiting_for else yes, f"{wave.mode.value}: {waits}")
    if found.beta_exit is not None:
        detail = "; ".join(criterion.label for criterion in found.beta_exit.criteria) or "no criteria"
        table.add_row("beta exit", yes if found.beta_exit.met else no, escape(detail))
    next_at = f" ({when(found.next_step_at)})" if found.next_step_at else ""
    table.add_row("next step", "", escape(found.next_step) + next_at)
    return table
