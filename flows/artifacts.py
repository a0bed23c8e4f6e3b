"""Markdown artifacts: the readiness table of a region's phase, as the Prefect UI shows it."""

from sqlmodel import Session, col, select

from orchestrator.core.enums import SATISFYING_STATUSES, GateKind, Phase
from orchestrator.core.models import ChecklistItem, Gate, Team
from orchestrator.gates.beta_exit import beta_exit_status


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow only lowercase letters, digits and dashes."""
    raw = "-".join(parts).lower()
    return "".join(char if char.isalnum() else "-" for char in raw).strip("-")


def readiness_markdown(session: Session, *, rollout_id: int, title: str, phase: Phase) -> str:
    gates = session.exec(select(Gate).where(Gate.rollout_id == rollout_id, Gate.phase == phase)).all()
    items = session.exec(
        select(ChecklistItem, Team.key)
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(ChecklistItem.rollout_id == rollout_id, ChecklistItem.phase == phase)
        .order_by(col(ChecklistItem.blocking).desc(), col(ChecklistItem.due_at), col(ChecklistItem.key))
    ).all()
    blocking_open = sum(1 for item, _ in items if item.blocking and item.status not in SATISFYING_STATUSES)
    lines = [
        f"## {title}",
        "",
        "Gates: " + ", ".join(f"**{gate.kind.value}** {gate.status.value}" for gate in gates),
        "",
        f"{blocking_open} blocking item(s) open of {len(items)} item(s).",
        "",
    ]
    if any(gate.kind == GateKind.BETA_EXIT for gate in gates):
        lines += ["| beta exit criterion | value | needs | met |", "| --- | --- | --- | --- |"]
        for criterion in beta_exit_status(session=session, rollout_id=rollout_id, phase=phase):
            needs = f"{criterion.comparator} {criterion.threshold}"
            lines.append(
                f"| {criterion.metric.value} | {criterion.value} | {needs} | {'yes' if criterion.met else 'no'} |"
            )
        lines.append("")
    lines += [
        "| item | team | gate | status | due (UTC) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item, team in items:
        due = item.due_at.strftime("%Y-%m-%d %H:%M") if item.due_at else "-"
        gate = "blocking" if item.blocking else "advisory"
        title_cell = item.title.replace("|", "/")
        lines.append(f"| {title_cell} | {team} | {gate} | {item.status.value} | {due} |")
    return "\n".join(lines)
