"""The overdue reminder: a nudge for one late item, by DM to its assignee or, escalated, to the
team channel, with the item's buttons so it can be closed from the reminder itself."""

from datetime import datetime, timedelta

from notifications.messages.items import item_actions
from notifications.messages.layout import Message, section_block
from notifications.messages.snapshots import OverdueReminderMessage
from notifications.messages.templating import render


def overdue_reminder(msg: OverdueReminderMessage) -> Message:
    """A nudge for one late item with its buttons, so it can be closed from the DM itself.
    An escalation (to the team channel) is marked as such."""
    late = _late_by(msg.item.due_at, msg.now)
    context = {
        "item": msg.item,
        "late": late,
        "escalated": msg.escalated,
        "team": msg.team_key,
        "launch_name": msg.launch_name,
        "region_name": msg.region_name,
        "region_code": msg.region_code,
        "phase": msg.phase,
        "timezone": msg.timezone,
    }
    blocks = [section_block(render("overdue_reminder", **context), block_id=f"reminder:{msg.item.id}")]
    if not msg.item.closed:
        blocks.append(item_actions(msg.item))
    return Message(text=render("overdue_reminder_text", **context), blocks=blocks)


def _late_by(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return "an unknown time"
    late = max(now - due_at, timedelta(0))
    if late >= timedelta(days=1):
        days = late.days
        return f"{days} day{'s' if days != 1 else ''}"
    hours = max(int(late / timedelta(hours=1)), 1)
    return f"{hours} hour{'s' if hours != 1 else ''}"
