"""``/launch status|mine|feedback|help``: read-only answers given in the acknowledgement itself
(``feedback`` opens the feedback modal), with the read queries they need; the prod ops commands
(``kickoff|halt|resume|rollback``) open their confirmation modal (``ops``)."""

import re

from sqlmodel import Session

from notifications.inbound import ops
from notifications.inbound.login import login_reply
from notifications.inbound.members import member_for
from notifications.inbound.modals import feedback_modal
from notifications.inbound.replies import PendingView, Reply, friendly, incident_text
from notifications.inbound.requests import OPS_COMMANDS, CommandKind, SlashCommand
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import exit_criteria_mrkdwn, fit_mrkdwn, phase_label, shorten
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateStatus, Phase
from orchestrator.core.errors import LaunchdeckError, NotFound
from orchestrator.core.models import Member
from orchestrator.items.queries import open_items_of
from orchestrator.launches.queries import RolloutView, launch_detail
from orchestrator.launches.spec import SLUG_PATTERN

TEXT_MAX = 3000  # keep answers to one section's worth of text
MINE_LIMIT = 15  # lines in a `/launch mine` answer before "and N more"


def handle_command(*, session: Session, command: SlashCommand) -> Reply:
    """``/launch status|mine|help``, answered in the acknowledgement itself; ``feedback`` and the
    prod ops commands open a modal (nothing is written before its submission)."""
    try:
        if command.kind is CommandKind.STATUS:
            return Reply(text=status_text(session, slug=command.argument or ""))
        if command.kind is CommandKind.MINE:
            return Reply(text=mine_text(session, member_for(session, command.user_id)))
        if command.kind is CommandKind.FEEDBACK:
            member_for(session, command.user_id)
            if not command.trigger_id:
                return Reply(text=":warning: Slack sent no trigger_id, so the feedback form cannot open; try again.")
            modal = feedback_modal(launch=command.argument)
            return Reply(view=PendingView(trigger_id=command.trigger_id, view=modal))
        if command.kind in OPS_COMMANDS:
            return ops.handle_open(session, command)
        if command.kind is CommandKind.LOGIN:
            return login_reply(session, command)
        return Reply(text=help_text(command.command, unknown=command.unknown))
    except LaunchdeckError as error:
        return Reply(text=friendly(error))
    except Exception as error:  # noqa: BLE001 - the one place unknown errors become an incident id
        return Reply(text=incident_text(error))


def help_text(command: str = "/launch", *, unknown: str | None = None) -> str:
    lines = [f"I don't know `{command} {unknown}`." if unknown else "", "*launchdeck commands*"]
    lines += [
        f"• `{command} status <launch-slug>`: every region's state, phase and open blocking items",
        f"• `{command} mine`: the open items of your team and the ones assigned to you",
        f"• `{command} feedback [launch-slug]`: log beta feedback (or use *Log beta feedback* on a message)",
        *ops.help_lines(command),
        f"• `{command} login`: a one-time link to the dashboard, sent to you in a DM",
        f"• `{command} help`: this list",
        "Check items off with the *Done* button on their messages; the ⋯ menu blocks, waives or adds evidence.",
    ]
    return "\n".join(line for line in lines if line)


# --- status ------------------------------------------------------------------------------------


def status_text(session: Session, *, slug: str) -> str:
    """A launch's rollout per region, from the same read model the API and dashboard use."""
    if not re.fullmatch(SLUG_PATTERN, slug):
        raise NotFound("launch", slug)
    detail = launch_detail(session=session, slug=slug)
    launch = detail.launch
    lines = [f"*{esc(launch.name)}* (`{launch.slug}`) · tier {launch.tier} · {launch.status.value}"]
    for view in detail.rollouts:
        phase = f" ({phase_label(view.phase)})" if view.phase else ""
        percent = f" at {view.percent}%" if view.percent else ""
        line = f"• *{esc(view.region)}* {esc(view.region_name)}: {view.state.value}{phase}{percent}"
        line += f" · {view.items_open_blocking} open blocking of {view.items_total} items"
        if view.items_overdue:
            line += f" · :warning: {view.items_overdue} overdue"
        if view.halt_reason:
            line += f" · halted: {esc(view.halt_reason)}"
        lines.append(line + _exit_criteria(view))
    if not detail.rollouts:
        lines.append("_No regions planned yet._")
    return fit_mrkdwn("\n".join(lines), TEXT_MAX)


def _exit_criteria(view: RolloutView) -> str:
    """The region's nearest beta exit gate not yet passed, with each criterion's value, threshold
    and whether it holds: why the region is (or will be) waiting there."""
    order = Phase.ordered()
    waiting = [gate for gate in view.gates if gate.status != GateStatus.PASSED and gate.criteria]
    if not waiting:
        return ""
    gate = min(waiting, key=lambda gate: order.index(gate.phase))
    return f" · exit criteria for {phase_label(gate.phase)}: {exit_criteria_mrkdwn(gate.criteria)}"


# --- mine --------------------------------------------------------------------------------------


def mine_text(session: Session, member: Member) -> str:
    """Open items of the member's team or assigned to them, in launches still going, soonest due first."""
    rows = open_items_of(session=session, member=member, limit=MINE_LIMIT + 1)
    if not rows:
        return ":tada: Nothing open for you or your team."
    lines = ["*Your open items*"]
    for item, slug, region in rows[:MINE_LIMIT]:
        due = f" · due {as_utc(item.due_at):%Y-%m-%d}" if item.due_at else ""
        title = esc(shorten(item.title, 120))
        lines.append(f"• `{slug}` {esc(region)} {phase_label(item.phase)}: {title} ({item.status.value}){due}")
    if len(rows) > MINE_LIMIT:
        lines.append("_…and more: see `/launch status <slug>` or the dashboard._")
    return fit_mrkdwn("\n".join(lines), TEXT_MAX)
