"""The modals a request opens or answers with: an item's waive / evidence / blocked form, the beta
feedback form, and the read-only notice that replaces a submitted modal.

Built with slack_sdk's models so Slack's limits are checked here rather than by ``views.open``.
Pure: what a modal shows is passed in.
"""

from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from notifications.ids import ITEM_INPUTS, ITEM_SUBMIT_ACTIONS, ActionId, InputId, ItemChoice, ItemRef
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import shorten
from orchestrator.core.enums import BETA_PHASES, FeedbackType, Phase

REASON_MAX = 1000  # the AuditEvent.reason / Waiver.reason column length
FEEDBACK_TEXT_MAX = 3000  # Slack's plain_text_input limit (the service allows more; Slack cannot send it)
SEVERITIES = {
    "1": "1: blocks use or loses data",
    "2": "2: major, with a workaround",
    "3": "3: minor",
    "4": "4: cosmetic",
}
_MODAL_TEXT: dict[ItemChoice, tuple[str, str, str]] = {
    # choice: (title ≤ 24 chars, input label, placeholder)
    ItemChoice.BLOCK: ("Mark blocked", "What blocks it?", "Waiting on the DPA signature from legal"),
    ItemChoice.WAIVE: ("Request a waiver", "Why can it be skipped?", "Risk accepted because..."),
    ItemChoice.EVIDENCE: ("Add evidence", "Link to the evidence", "https://"),
}


def item_modal(choice: ItemChoice, *, ref: ItemRef, title: str, grants_waiver: bool = False) -> dict[str, Any]:
    """The modal an overflow choice opens: one required input, the item (id and version) in
    ``private_metadata``, and the submit ``callback_id`` the submission is routed by."""
    heading, label, placeholder = _MODAL_TEXT[choice]
    if choice is ItemChoice.WAIVE and grants_waiver:
        heading, label = "Waive item", "Why is the risk accepted?"
    input_id = ITEM_INPUTS[choice].value
    element: PlainTextInputElement | UrlInputElement
    if choice is ItemChoice.EVIDENCE:
        element = UrlInputElement(action_id=input_id, placeholder=placeholder)
    else:
        element = PlainTextInputElement(
            action_id=input_id, multiline=True, max_length=REASON_MAX, placeholder=placeholder
        )
    view = View(
        type="modal",
        callback_id=ITEM_SUBMIT_ACTIONS[choice].value,
        title=PlainTextObject(text=heading),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=ref.to_value(),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"*{esc(shorten(title, 1000))}*")),
            InputBlock(block_id=input_id, label=PlainTextObject(text=label), element=element),
        ],
    )
    return view.to_dict()


def notice_view(heading: str, text: str) -> dict[str, Any]:
    """A read-only modal replacing a submitted one, to confirm what happened."""
    view = View(
        type="modal",
        title=PlainTextObject(text=shorten(heading, 24)),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=MarkdownTextObject(text=shorten(text, 2900)))],
    )
    return view.to_dict()


def feedback_modal(*, launch: str | None = None, text: str = "", link: str | None = None) -> dict[str, Any]:
    """The feedback modal, pre-filled with what the shortcut or the command knew."""
    view = View(
        type="modal",
        callback_id=ActionId.BETA_FEEDBACK_SUBMIT.value,
        title=PlainTextObject(text="Log beta feedback"),
        submit=PlainTextObject(text="Log it"),
        close=PlainTextObject(text="Cancel"),
        blocks=[
            _line(InputId.FEEDBACK_LAUNCH, "Launch", initial=launch, placeholder="acme-assistant"),
            _line(InputId.FEEDBACK_REGION, "Region", placeholder="EU"),
            _select(
                InputId.FEEDBACK_PHASE,
                "Phase",
                {phase.value: phase.value.replace("_", " ") for phase in Phase.ordered()},
                initial=BETA_PHASES[0].value,
            ),
            _line(InputId.FEEDBACK_ACCOUNT, "Account", placeholder="The customer account's id"),
            _select(InputId.FEEDBACK_TYPE, "Type", {kind.value: kind.value for kind in FeedbackType}, initial="bug"),
            _select(InputId.FEEDBACK_SEVERITY, "Severity", SEVERITIES, initial="3"),
            InputBlock(
                block_id=InputId.FEEDBACK_TEXT.value,
                label=PlainTextObject(text="What happened"),
                element=PlainTextInputElement(
                    action_id=InputId.FEEDBACK_TEXT.value,
                    multiline=True,
                    max_length=FEEDBACK_TEXT_MAX,
                    initial_value=shorten(text, FEEDBACK_TEXT_MAX) if text.strip() else None,
                ),
            ),
            InputBlock(
                block_id=InputId.FEEDBACK_LINK.value,
                label=PlainTextObject(text="Link"),
                optional=True,
                element=UrlInputElement(action_id=InputId.FEEDBACK_LINK.value, initial_value=link),
            ),
        ],
    )
    return view.to_dict()


def _select(input_id: InputId, label: str, options: dict[str, str], initial: str | None = None) -> InputBlock:
    choices = [Option(value=value, text=text) for value, text in options.items()]
    initial_option = next((choice for choice in choices if choice.value == initial), None)
    return InputBlock(
        block_id=input_id.value,
        label=PlainTextObject(text=label),
        element=StaticSelectElement(action_id=input_id.value, options=choices, initial_option=initial_option),
    )


def _line(input_id: InputId, label: str, *, initial: str | None = None, placeholder: str = "") -> InputBlock:
    return InputBlock(
        block_id=input_id.value,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id=input_id.value,
            initial_value=initial or None,
            placeholder=placeholder or None,
            max_length=120,
        ),
    )
