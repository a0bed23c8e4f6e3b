"""The day before a phase date: the reminder to an approver who has not voted (the approval
request itself, with its vote buttons, under a reminder line, so they can vote from it), and the
note to prod ops naming who is missing. Pure: snapshots in, blocks out."""

from datetime import datetime

from notifications.messages.approvals import approval_request
from notifications.messages.layout import Message, context_block, section_block
from notifications.messages.snapshots import ApprovalRequestMessage, VotesMissingMessage
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import phase_label, shorten


def approval_reminder(msg: ApprovalRequestMessage, *, now: datetime, approver: str) -> Message:
    """The approver's reminder: one plain sentence, then the request's blocks (readiness, tally,
    buttons). "today" or "tomorrow" is told by the UTC calendar date the phase date falls on.
    Re-rendered once ``approver`` has voted (or the gate passed), it is the request as it stands."""
    request = approval_request(msg)
    if msg.passed or approver not in msg.missing:
        return request
    when = _when(msg.phase_at, now=now)
    what = f"{shorten(msg.launch_name, 200)} {msg.region_code} {phase_label(msg.phase)}"
    sentence = f"Reminder: {what} is due {when} and still needs your vote"
    reminder = section_block(f":alarm_clock: {esc(sentence)}.", block_id=f"approval:{msg.gate_id}:reminder")
    return Message(text=sentence, blocks=[reminder, *request.blocks])


def votes_missing(msg: VotesMissingMessage) -> Message:
    """Prod ops' note: "<launch> <region> <phase> on <date>: waiting for votes from A, B (needs 2
    more Go)", and a No-Go, which holds the gate whatever the others say, named too."""
    what = f"{shorten(msg.launch_name, 200)} {msg.region_code} {phase_label(msg.phase)}"
    needs = f"needs {msg.gos_needed} more Go" if msg.gos_needed else "enough Gos"
    text = f"{what} on {msg.phase_at:%Y-%m-%d}: waiting for votes from {', '.join(msg.missing)} ({needs})"
    if msg.no_gos:
        text += f"; No-Go from {', '.join(msg.no_gos)} holds it"
    blocks = [section_block(esc(text), block_id=f"votes_missing:{msg.launch_slug}:{msg.region_code}")]
    footer = f"Phase date {msg.phase_at:%Y-%m-%d %H:%M} UTC, launch `{msg.launch_slug}`"
    if msg.link:
        footer += f" · <{msg.link}|Open the launch in launchdeck>"
    blocks.append(context_block(footer))
    return Message(text=text, blocks=blocks)


def _when(phase_at: datetime | None, *, now: datetime) -> str:
    if phase_at is None:
        return "soon"
    days = (phase_at.date() - now.date()).days
    day = "today" if days <= 0 else "tomorrow" if days == 1 else f"on {phase_at:%Y-%m-%d}"
    return f"{day} ({phase_at:%Y-%m-%d %H:%M} UTC)"
