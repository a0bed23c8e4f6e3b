"""Rich renderings of the read models (tables people read in a terminal)."""

from datetime import datetime

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from orchestrator.core.clock import as_utc, zone
from orchestrator.core.enums import GateKind, GateStatus, LaunchStatus, Phase, RolloutState
from orchestrator.launches.queries import LaunchDetail, LaunchSummary, RolloutView

STATE_STYLE = {
    RolloutState.PLANNED: "dim",
    RolloutState.GATED: "yellow",
    RolloutState.READY: "cyan",
    RolloutState.ROLLING_OUT: "blue",
    RolloutState.LIVE: "green",
    RolloutState.HALTED: "bold red",
    RolloutState.ROLLED_BACK: "bold red",
}


def launches_table(launches: list[LaunchSummary]) -> Table:
    table = Table(title="Launches", title_justify="left")
    for column in ("Slug", "Name", "Tier", "Status", "Owner", "Regions", "Open blocking", "Items"):
        table.add_column(column, justify="right" if column in ("Tier", "Open blocking", "Items") else "left")
    for launch in launches:
        status_style = "green" if launch.status == LaunchStatus.ACTIVE else "dim"
        table.add_row(
            launch.slug,
            launch.name,
            f"T{launch.tier}",
            f"[{status_style}]{launch.status.value}[/]",
            launch.owner,
            ", ".join(launch.regions),
            str(launch.items_open_blocking),
            str(launch.items_total),
        )
    return table


def _date(value: datetime, timezone: str) -> str:
    """The region's local day of a phase date (a plain date typed for it reads back as typed)."""
    return as_utc(value).astimezone(zone(timezone)).strftime("%Y-%m-%d")


def _phase_cell(rollout: RolloutView, phase: Phase) -> str:
    if phase in rollout.skipped_phases:
        return "[dim]skipped[/]"
    view = next((p for p in rollout.phases if p.phase == phase), None)
    if view is None:
        return "[dim]-[/]"
    slip = view.slip_days
    if slip >= 1:
        return f"{_date(view.current_at, rollout.timezone)} [red]+{slip:.0f}d[/]"
    if slip <= -1:
        return f"{_date(view.current_at, rollout.timezone)} [green]{slip:.0f}d[/]"
    return _date(view.current_at, rollout.timezone)


def _open_gates(rollout: RolloutView) -> str:
    waiting = [
        gate.kind.value for gate in rollout.gates if gate.phase == rollout.phase and gate.status == GateStatus.OPEN
    ]
    return ", ".join(waiting) if waiting else "-"


def launch_panel(detail: LaunchDetail) -> Group:
    launch = detail.launch
    header = (
        f"[bold]{launch.name}[/] ({launch.slug})  tier {launch.tier}  status [bold]{launch.status.value}[/]\n"
        f"owner {launch.owner}"
        + (f"  sponsor {launch.exec_sponsor}" if launch.exec_sponsor else "")
        + (f"  flags {', '.join(launch.flags)}" if launch.flags else "")
        + (f"  template {launch.template_version}" if launch.template_version else "")
    )
    table = Table(title="Rollout by region", title_justify="left")
    for column in ("Region", "State", "Phase", "Exposure", "Waiting on", "Blocking open", "Overdue", "Items"):
        table.add_column(
            column, justify="right" if column in ("Exposure", "Blocking open", "Overdue", "Items") else "left"
        )
    dates = Table(title="Phase dates (each region's local day; +Nd = slipped against baseline)", title_justify="left")
    dates.add_column("Region")
    for phase in Phase.ordered():
        dates.add_column(phase.value)
    for rollout in detail.rollouts:
        style = STATE_STYLE[rollout.state]
        state = f"[{style}]{rollout.state.value}[/]"
        if rollout.halt_reason:
            state += f" [dim]({rollout.halt_reason})[/]"
        table.add_row(
            rollout.region,
            state,
            rollout.phase.value if rollout.phase else "-",
            f"{rollout.percent}%",
            _open_gates(rollout),
            str(rollout.items_open_blocking),
            f"[red]{rollout.items_overdue}[/]" if rollout.items_overdue else "0",
            str(rollout.items_total),
        )
        dates.add_row(rollout.region, *(_phase_cell(rollout, phase) for phase in Phase.ordered()))
    parts: list[Panel | Table] = [Panel(header, expand=False), table, dates, targets_table(detail)]
    for extra in (approvers_table(detail), beta_exit_table(detail)):
        if extra is not None:
            parts.append(extra)
    return Group(*parts)


def targets_table(detail: LaunchDetail) -> Table:
    """Where each region's exposure changes go and the flag they move there."""
    table = Table(title="Rollout target (--target/--flag-key at create; default LAUNCHDECK_ROLLOUT_TARGET)")
    table.title_justify = "left"
    for column in ("Region", "Target", "Flag key"):
        table.add_column(column)
    for rollout in detail.rollouts:
        table.add_row(rollout.region, rollout.target, rollout.flag_key)
    return table


def approvers_table(detail: LaunchDetail) -> Table | None:
    """Who approves each go/no-go gate and how many Gos it needs; None without approval gates."""
    rows = [
        (rollout.region, gate)
        for rollout in detail.rollouts
        for gate in rollout.gates
        if gate.kind == GateKind.APPROVAL
    ]
    if not rows:
        return None
    table = Table(title="Go/no-go approvers (change: `launchdeck launch approvers`)", title_justify="left")
    for column in ("Region", "Gate", "Status", "Approvers", "Gos needed"):
        table.add_column(column)
    for region, gate in rows:
        needed = str(gate.quorum or len(gate.approvers)) + (" from distinct teams" if gate.distinct_teams else "")
        approvers = ", ".join(gate.approvers) or "[red]nobody: kickoff is refused[/]"
        table.add_row(region, gate.phase.value, gate.status.value, approvers, needed)
    return table


def beta_exit_table(detail: LaunchDetail) -> Table | None:
    """Each beta-exit gate's criteria with their current value and threshold; None without any."""
    rows = [
        (rollout.region, gate, criterion)
        for rollout in detail.rollouts
        for gate in rollout.gates
        if gate.kind == GateKind.BETA_EXIT
        for criterion in gate.criteria
    ]
    if not rows:
        return None
    table = Table(title="Beta exit criteria (gate of the phase after the beta)", title_justify="left")
    for column in ("Region", "Gate", "Status", "Criterion", "Value", "Needs", "Met"):
        table.add_column(column, justify="right" if column == "Value" else "left")
    for region, gate, criterion in rows:
        table.add_row(
            region,
            gate.phase.value,
            gate.status.value,
            criterion.metric.value,
            str(criterion.value),
            f"{criterion.comparator} {criterion.threshold}",
            "[green]yes[/]" if criterion.met else "[red]no[/]",
        )
    return table
