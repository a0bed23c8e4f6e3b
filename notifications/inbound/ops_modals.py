"""The confirmation modal of the prod ops commands (``/launch kickoff|halt|resume|rollback``):
what the action is about, what it will do, and, for the brakes, a required reason. Built with
slack_sdk's models so Slack's limits are checked here. Pure: what it shows is passed in.
"""

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from notifications.ids import ActionId, InputId, OpsAction, OpsRef
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import shorten

SECTION_MAX = 2900  # a section's text is at most 3000 characters

# action: (modal title ≤ 24 chars, verb in the question and the submit button, reason placeholder)
_TEXT: dict[OpsAction, tuple[str, str, str]] = {
    OpsAction.KICKOFF: ("Kick off launch", "Kick off", ""),
    OpsAction.HALT: ("Halt region", "Halt", "Error rate above 2% since 14:05 (INC-42)"),
    OpsAction.RESUME: ("Resume region", "Resume", "INC-42 mitigated; error rate back to 0.1%"),
    OpsAction.ROLLBACK: ("Roll back region", "Roll back", "Checkout failures after the 25% step (INC-43)"),
}


@dataclass(frozen=True)
class OpsPreview:
    """What the confirmation shows, read by the handler before it opens."""

    ref: OpsRef
    launch_name: str
    summary: str  # mrkdwn: the regions and their first phases, or the region's state, phase, exposure
    effect: str  # mrkdwn: what confirming does
    reason_max: int | None = None  # the reason's limit; None when the service takes no reason


def ops_modal(preview: OpsPreview) -> dict[str, Any]:
    """The modal asking "Kick off <launch>?" or "Halt <launch> in <region>?"; ``private_metadata``
    carries the action, launch and region (``OpsRef``) and its ``callback_id`` routes the submission."""
    title, verb, placeholder = _TEXT[preview.ref.action]
    where = f" in {esc(preview.ref.region)}" if preview.ref.region else ""
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{verb} {esc(shorten(preview.launch_name, 200))}{where}?*")),
        SectionBlock(text=MarkdownTextObject(text=shorten(preview.summary, SECTION_MAX))),
        ContextBlock(elements=[MarkdownTextObject(text=shorten(preview.effect, SECTION_MAX))]),
    ]
    if preview.reason_max is not None:
        blocks.append(
            InputBlock(
                block_id=InputId.OPS_REASON.value,
                label=PlainTextObject(text="Why?"),
                hint=PlainTextObject(text="Kept in the audit ledger and shown in the region's channel."),
                element=PlainTextInputElement(
                    action_id=InputId.OPS_REASON.value,
                    multiline=True,
                    min_length=1,
                    max_length=preview.reason_max,
                    placeholder=placeholder,
                ),
            )
        )
    view = View(
        type="modal",
        callback_id=ActionId.OPS_CONFIRM.value,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=verb),
        close=PlainTextObject(text="Cancel"),
        private_metadata=preview.ref.to_value(),
        blocks=blocks,
    )
    return view.to_dict()
