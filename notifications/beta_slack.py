"""Beta feedback from Slack: the "Log beta feedback" message shortcut and ``/launch feedback``
both open one modal; its submission becomes a report through the same service the API uses.

Pure parsing and building only (no database, no services): ``interactions`` routes the parsed
requests and carries them out. The shortcut pre-fills the modal with the message's text and a
link back to it, so what a customer said in a channel is logged without retyping it.
"""

from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View

from notifications.ids import ActionId, InputId
from notifications.mrkdwn import shorten
from orchestrator.core.enums import BETA_PHASES, FeedbackType, Phase

TEXT_MAX = 3000  # Slack's plain_text_input limit (the service allows more; Slack cannot send it)
SEVERITIES = {
    "1": "1: blocks use or loses data",
    "2": "2: major, with a workaround",
    "3": "3: minor",
    "4": "4: cosmetic",
}
# Which modal input a service error's field belongs to, so the message shows under that input.
FIELD_INPUTS = {
    "launch": InputId.FEEDBACK_LAUNCH,
    "region": InputId.FEEDBACK_REGION,
    "phase": InputId.FEEDBACK_PHASE,
    "account": InputId.FEEDBACK_ACCOUNT,
    "type": InputId.FEEDBACK_TYPE,
    "severity": InputId.FEEDBACK_SEVERITY,
    "text": InputId.FEEDBACK_TEXT,
    "link": InputId.FEEDBACK_LINK,
}


@dataclass(frozen=True)
class FeedbackOpen:
    """Open the feedback modal: from the message shortcut (with the message) or the command."""

    user_id: str
    trigger_id: str
    text: str = ""
    link: str | None = None
    launch: str | None = None


@dataclass(frozen=True)
class FeedbackSubmission:
    user_id: str
    launch: str
    region: str
    phase: str
    account: str
    type: str
    severity: str
    text: str
    link: str | None


def _text(data: Any, *path: str) -> str | None:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data if isinstance(data, str) else None


def message_link(payload: dict[str, Any]) -> str | None:
    """A link back to the message a shortcut was used on (Slack's archive URL form)."""
    domain = _text(payload, "team", "domain")
    channel = _text(payload, "channel", "id")
    ts = _text(payload, "message", "ts")
    if not (domain and channel and ts) or not ts.replace(".", "").isdigit():
        return None
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def parse_shortcut(payload: dict[str, Any], user_id: str, trigger_id: str) -> FeedbackOpen:
    return FeedbackOpen(
        user_id=user_id,
        trigger_id=trigger_id,
        text=_text(payload, "message", "text") or "",
        link=message_link(payload),
    )


def _value(values: Any, input_id: InputId) -> str:
    field = values.get(input_id.value, {}).get(input_id.value, {}) if isinstance(values, dict) else {}
    if not isinstance(field, dict):
        return ""
    selected = field.get("selected_option")
    if isinstance(selected, dict):
        return str(selected.get("value") or "")
    value = field.get("value")
    return value.strip() if isinstance(value, str) else ""


def parse_submission(view: dict[str, Any], user_id: str) -> FeedbackSubmission:
    values = _text_dict(view, "state", "values")
    return FeedbackSubmission(
        user_id=user_id,
        launch=_value(values, InputId.FEEDBACK_LAUNCH).lower(),
        region=_value(values, InputId.FEEDBACK_REGION).upper(),
        phase=_value(values, InputId.FEEDBACK_PHASE),
        account=_value(values, InputId.FEEDBACK_ACCOUNT),
        type=_value(values, InputId.FEEDBACK_TYPE),
        severity=_value(values, InputId.FEEDBACK_SEVERITY),
        text=_value(values, InputId.FEEDBACK_TEXT),
        link=_value(values, InputId.FEEDBACK_LINK) or None,
    )


def _text_dict(data: Any, *path: str) -> dict[str, Any]:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


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


def feedback_modal(*, launch: str | None = None, text: str = "", link: str | None = None) -> dict[str, Any]:
    """The feedback modal, pre-filled with what the shortcut or the command knew. Built with
    slack_sdk's models so Slack's limits are checked here, not by ``views.open``."""
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
                    max_length=TEXT_MAX,
                    initial_value=shorten(text, TEXT_MAX) if text.strip() else None,
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
