"""The two vote modals an approver's buttons open: Conditional Go (the conditions, and a user
picker for who accepts the risk) and No-Go (the reason, and a date picker for when the region is
looked at again). Built with slack_sdk's models so Slack's limits are checked here. Pure.
"""

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from notifications.ids import ActionId, GateRef, InputId
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import shorten
from orchestrator.core.enums import Vote

VOTE_TEXT_MAX = 2000  # Decision.comment's and Decision.conditions' column length


def vote_modal(vote: Vote, *, ref: GateRef, title: str, suggested_date: date) -> dict[str, Any]:
    """The modal for a Conditional Go or a No-Go on the gate ``ref`` (its ``private_metadata``)."""
    heading = f"*{esc(shorten(title, 1000))}*"
    if vote is Vote.CONDITIONAL_GO:
        blocks = [
            SectionBlock(text=MarkdownTextObject(text=heading)),
            _text_input(InputId.VOTE_CONDITIONS, "Conditions of your Go", "Support rota staffed 24/7 for week 1"),
            InputBlock(
                block_id=InputId.VOTE_RISK_OWNER.value,
                label=PlainTextObject(text="Who accepts the risk"),
                element=UserSelectElement(action_id=InputId.VOTE_RISK_OWNER.value),
            ),
        ]
        callback, modal_title, submit = ActionId.VOTE_CONDITIONAL_SUBMIT, "Conditional Go", "Vote Conditional Go"
    else:
        blocks = [
            SectionBlock(text=MarkdownTextObject(text=heading)),
            _text_input(InputId.VOTE_REASON, "Why No-Go", "Checkout errors above 1% in the beta"),
            InputBlock(
                block_id=InputId.VOTE_REEVALUATE.value,
                label=PlainTextObject(text="Look at it again on"),
                element=DatePickerElement(
                    action_id=InputId.VOTE_REEVALUATE.value, initial_date=suggested_date.isoformat()
                ),
            ),
        ]
        callback, modal_title, submit = ActionId.VOTE_NO_GO_SUBMIT, "No-Go", "Vote No-Go"
    view = View(
        type="modal",
        callback_id=callback.value,
        title=PlainTextObject(text=modal_title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=ref.to_value(),
        blocks=blocks,
    )
    return view.to_dict()


def _text_input(input_id: InputId, label: str, placeholder: str) -> InputBlock:
    return InputBlock(
        block_id=input_id.value,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id=input_id.value, multiline=True, max_length=VOTE_TEXT_MAX, placeholder=placeholder
        ),
    )
