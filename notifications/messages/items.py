"""Checklist item messages: a team's items when a region's phase gate opens, and an item's line
re-rendered when it changes, to be spliced into the message that listed it.

Each checklist item is always exactly two blocks (its section, then its buttons or its
who/when line) with block ids derived from the item id and version, so ``splice_item`` can
replace one item's line in a posted message when it is checked off (``chat.update``), and a
re-render of the same items splits into the same parts (``layout.paginate``).
"""

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, Option, OverflowMenuElement, PlainTextObject

from notifications.ids import ActionId, ItemChoice, ItemChoiceRef, ItemRef
from notifications.messages.layout import (
    BUTTON_TEXT_MAX,
    Blocks,
    Message,
    block_dict,
    context_block,
    header_block,
    paginate,
    section_block,
)
from notifications.messages.snapshots import GateOpenedMessage, ItemCheckedMessage, ItemLine
from notifications.messages.templating import render
from notifications.mrkdwn import escape_mrkdwn, shorten
from orchestrator.core.enums import ItemStatus

_STATUS_ICONS = {
    ItemStatus.TODO: ":white_large_square:",
    ItemStatus.IN_PROGRESS: ":hourglass_flowing_sand:",
    ItemStatus.BLOCKED: ":no_entry:",
    ItemStatus.DONE: ":white_check_mark:",
    ItemStatus.WAIVED: ":fast_forward:",
    ItemStatus.NOT_APPLICABLE: ":heavy_minus_sign:",
}
_STATUS_LABELS = {
    ItemStatus.TODO: "To do",
    ItemStatus.IN_PROGRESS: "In progress",
    ItemStatus.BLOCKED: "Blocked",
    ItemStatus.DONE: "Done",
    ItemStatus.WAIVED: "Waived",
    ItemStatus.NOT_APPLICABLE: "Not applicable",
}
_CHOICE_LABELS = {
    ItemChoice.BLOCK: "Mark blocked…",
    ItemChoice.WAIVE: "Request waiver…",
    ItemChoice.EVIDENCE: "Add evidence…",
}


# --- gate opened -------------------------------------------------------------------------


def gate_opened(msg: GateOpenedMessage) -> list[Message]:
    """A team's items for one region and phase: a header, a context line (launch, region, gate
    date, counts, part n of m) and two blocks per item. Split into as many messages as the
    50-block and text-size limits need; the items keep their order and each appears once."""
    team = msg.team_name or msg.team_key
    groups = [item_blocks(item, timezone=msg.timezone) for item in msg.items]
    chunks = paginate(groups, reserved_blocks=3 if msg.exit_criteria else 2) if groups else [[]]
    blocking = sum(1 for item in msg.items if item.blocking)
    messages: list[Message] = []
    first = 1
    for index, chunk in enumerate(chunks, start=1):
        count = len(chunk)
        context = {
            "team": team,
            "launch_name": msg.launch_name,
            "launch_slug": msg.launch_slug,
            "region_code": msg.region_code,
            "region_name": msg.region_name,
            "phase": msg.phase,
            "gate_at": msg.gate_at,
            "timezone": msg.timezone,
            "total": len(msg.items),
            "blocking": blocking,
            "part": index,
            "parts": len(chunks),
            "first": first,
            "last": first + count - 1,
        }
        head = [
            header_block(render("gate_opened_header", **context)),
            context_block(render("gate_opened_context", **context), block_id=f"gate:part:{index}"),
        ]
        if msg.exit_criteria and index == 1:
            criteria = " · ".join(escape_mrkdwn(label) for label in msg.exit_criteria)
            head.append(context_block(f":test_tube: Beta exit criteria: {criteria}", block_id="gate:beta-exit"))
        body = [block for group in chunk for block in group]
        if not msg.items:
            body = [section_block("_No items for this team in this phase._")]
        messages.append(Message(text=render("gate_opened_text", **context), blocks=head + body))
        first += count
    return messages


def item_blocks(item: ItemLine, *, timezone: str = "UTC") -> Blocks:
    """An item's two blocks: its section, then either its buttons (open items) or who closed it
    and when (done, waived, n/a). Always two, so splitting and splicing stay stable."""
    label = _STATUS_LABELS[item.status]
    text = render("item_line", item=item, icon=_STATUS_ICONS[item.status], status_label=label, timezone=timezone)
    section = section_block(text, block_id=_item_block_id(item))
    if item.closed:
        status = render(
            "item_status", item=item, status_label=f"{_STATUS_ICONS[item.status]} {label}", timezone=timezone
        )
        return [section, context_block(status, block_id=f"{_item_block_id(item)}:status")]
    return [section, item_actions(item)]


def item_actions(item: ItemLine) -> dict[str, Any]:
    """An open item's Done button and its overflow (block / waive / evidence), carrying the item
    and the version the message shows."""
    done = done_button(item_id=item.id, version=item.version, title=item.title)
    overflow = OverflowMenuElement(
        action_id=ActionId.ITEM_OVERFLOW.value,
        options=[
            Option(
                value=ItemChoiceRef(item_id=item.id, version=item.version, choice=choice).to_value(),
                text=PlainTextObject(text=label, emoji=True),
            )
            for choice, label in _CHOICE_LABELS.items()
        ],
    )
    return block_dict(ActionsBlock(block_id=f"{_item_block_id(item)}:actions", elements=[done, overflow]))


def done_button(*, item_id: int, version: int, title: str) -> ButtonElement:
    """An open item's Done button, carrying the item and the version shown (here and in the App Home)."""
    return ButtonElement(
        text=PlainTextObject(text="Done", emoji=True),
        action_id=ActionId.ITEM_DONE.value,
        value=ItemRef(item_id=item_id, version=version).to_value(),
        style="primary",
        accessibility_label=shorten(f"Mark done: {title}", BUTTON_TEXT_MAX),
    )


def _item_block_id(item: ItemLine) -> str:
    """New id per version (Slack asks for a fresh block_id when a message is updated)."""
    return f"item:{item.id}:v{item.version}"


# --- item checked ------------------------------------------------------------------------


def item_checked(msg: ItemCheckedMessage) -> Message:
    """The item's re-rendered line (section plus who/when, or buttons if it was reopened) and
    a fallback text naming who did what; splice it into the posted message with ``splice_item``."""
    label = _STATUS_LABELS[msg.item.status]
    text = render(
        "item_checked_text",
        actor=msg.actor,
        item=msg.item,
        status_label=label,
        launch_name=msg.launch_name,
        region_code=msg.region_code,
        phase=msg.phase,
    )
    return Message(text=text, blocks=item_blocks(msg.item, timezone=msg.timezone))


def splice_item(blocks: Sequence[dict[str, Any]], item_id: int, replacement: Sequence[dict[str, Any]]) -> Blocks:
    """``blocks`` with the item's line (any version) replaced by ``replacement``, for
    ``chat.update`` of the message that listed it. Unchanged if the item is not in ``blocks``,
    so a stale or foreign message is never given a stray line."""
    prefix = f"item:{item_id}:"
    out: Blocks = []
    placed = False
    for block in blocks:
        if str(block.get("block_id", "")).startswith(prefix):
            if not placed:
                out.extend(replacement)
                placed = True
            continue
        out.append(block)
    return out
