"""Slack interactions through the inbox (orchestrator/core/inbox.py): what is recorded of each,
which are applied later by a processor and which are answered inline, and applying one.

Applied later (``is_queued``): clicks (the Done button, overflow choices, buttons we do not act on).
Slack ignores the body of their answer, so the request records them and answers at once; a
processor applies them from the table, each marked done in the same commit as its change.

Answered inline, and recorded with their effect (``answer_recorded``): modal submissions (their
validation errors must come back in the answer), the feedback shortcut (its modal needs the
``trigger_id`` within three seconds) and slash commands (answered in the body). Their row is
written in the handler's own write transaction, or after it when it wrote nothing, and always
before the answer; a crash before that answers nothing, so Slack shows the person an error and
nothing was applied.

An overflow choice's ``trigger_id`` expires three seconds after the click: one applied later than
that (after a restart) is answered "choose it again" instead of failing to open its modal.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from notifications.inbound.parsing import MalformedPayload, parse_payload
from notifications.inbound.replies import Reply
from notifications.inbound.requests import DoneClick, Interaction, OverflowChoice, SlashCommand, Unhandled
from notifications.inbound.routing import handle_interaction
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import InteractionKind
from orchestrator.core.errors import ClaimLost
from orchestrator.core.inbox import (
    RECORD,
    Claimed,
    close_claim,
    interaction_row,
    mark_done,
    settle_on_first_write,
)
from orchestrator.core.unit import transaction

PAYLOAD_MAX_BYTES = 32_000  # what is kept of one payload, once the message's blocks are left out
TRIGGER_LIFETIME = timedelta(seconds=3)  # Slack's, for views.open
_KINDS = {
    "block_actions": InteractionKind.BLOCK_ACTION,
    "view_submission": InteractionKind.VIEW_SUBMISSION,
    "message_action": InteractionKind.SHORTCUT,
    "shortcut": InteractionKind.SHORTCUT,
}
_BULKY = ("blocks", "attachments")  # the message or view we rendered: never read back
TOO_LATE = (
    ":hourglass: That menu choice reached launchdeck after Slack's three seconds to open its form "
    "(launchdeck was restarting); choose it again."
)


@dataclass(frozen=True)
class Record:
    """What is written of one interaction: who, what kind, its ordering key, its payload."""

    kind: InteractionKind
    slack_user_id: str
    ordering_key: str
    payload: dict[str, Any]

    def row(self, *, now: datetime, done: bool = False) -> dict[str, Any]:
        return interaction_row(
            kind=self.kind,
            slack_user_id=self.slack_user_id,
            ordering_key=self.ordering_key,
            payload=self.payload,
            now=now,
            done=done,
        )


def is_queued(interaction: Interaction) -> bool:
    """Recorded and answered at once, applied afterwards by a processor."""
    return isinstance(interaction, DoneClick | OverflowChoice | Unhandled)


def record_of(payload: dict[str, Any], interaction: Interaction) -> Record:
    """The record of a parsed interaction: clicks on one item share the key ``item:<id>`` (applied
    one at a time, in order); anything else is keyed by its sender. Raises ``MalformedPayload``
    for a payload too large to keep."""
    slim = dict(payload)
    for outer in ("message", "view"):
        part = slim.get(outer)
        if isinstance(part, dict):
            slim[outer] = {name: value for name, value in part.items() if name not in _BULKY}
    size = len(json.dumps(slim, separators=(",", ":")))
    if size > PAYLOAD_MAX_BYTES:
        raise MalformedPayload(f"the payload is {size} bytes without its blocks; at most {PAYLOAD_MAX_BYTES} are kept")
    user = payload.get("user")
    user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
    key = f"user:{user_id}"
    if isinstance(interaction, DoneClick | OverflowChoice):
        key = f"item:{interaction.ref.item_id}"
    kind = _KINDS.get(str(payload.get("type")), InteractionKind.OTHER)
    return Record(kind=kind, slack_user_id=user_id, ordering_key=key, payload=slim)


def command_record(form: dict[str, str], command: SlashCommand) -> Record:
    return Record(InteractionKind.COMMAND, command.user_id, f"user:{command.user_id}", form)


def answer_recorded(session: Session, record: Record, work: Callable[[Session], Reply], *, now: datetime) -> Reply:
    """An interaction answered inline: ``work`` carried out, and its record written done in the
    same commit as its first write (or after it, when it wrote nothing)."""
    row = record.row(now=now, done=True)
    with settle_on_first_write(session, lambda connection: connection.execute(RECORD, row)) as settlement:
        reply = work(session)
    if not settlement.settled:
        with transaction(session):
            session.connection().execute(RECORD, row)
    return reply


def apply_claimed(session: Session, claimed: Claimed, *, owner: str, now: datetime) -> Reply | None:
    """Apply a row this processor claimed, marking it done with its change. None when another
    processor took it over meanwhile (this one's change was rolled back; nothing to follow up)."""
    interaction = parse_payload(claimed.payload)
    if isinstance(interaction, OverflowChoice) and now - as_utc(claimed.received_at) > TRIGGER_LIFETIME:
        mark_done(session, interaction_id=claimed.id, owner=owner, now=now)
        return Reply(text=TOO_LATE, response_url=interaction.response_url)

    def close(connection: Any) -> None:
        close_claim(connection, interaction_id=claimed.id, owner=owner, now=now)

    with settle_on_first_write(session, close) as settlement:
        reply = handle_interaction(session=session, interaction=interaction)
    if settlement.lost:
        return None
    if not settlement.settled:
        try:
            mark_done(session, interaction_id=claimed.id, owner=owner, now=now)
        except ClaimLost:
            return None
    return reply
