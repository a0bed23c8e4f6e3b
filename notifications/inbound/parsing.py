"""Parsing (pure): a verified Slack body becomes one typed request (``requests``).

Ids are closed vocabularies (``ActionId``, ``InputId``) and button values are validated
``ItemRef``s, so a payload we did not render fails here instead of reaching a service. Callers
must verify the signature first (``signing``); nothing here trusts a body on its own.
"""

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from notifications.ids import (
    ITEM_INPUTS,
    ITEM_SUBMIT_ACTIONS,
    ActionId,
    GateRef,
    InputId,
    ItemChoiceRef,
    ItemRef,
    OpsRef,
)
from notifications.inbound.requests import (
    OPS_COMMANDS,
    CommandKind,
    DoneClick,
    FeedbackOpen,
    FeedbackSubmission,
    Interaction,
    ItemSubmission,
    OpsSubmission,
    OverflowChoice,
    SlackEvent,
    SlashCommand,
    Unhandled,
    VoteClick,
    VoteSubmission,
)
from orchestrator.core.enums import Vote
from orchestrator.core.errors import LaunchdeckError

_CHOICE_FOR_CALLBACK = {callback: choice for choice, callback in ITEM_SUBMIT_ACTIONS.items()}
VOTE_BUTTONS = {
    ActionId.VOTE_GO: Vote.GO,
    ActionId.VOTE_CONDITIONAL: Vote.CONDITIONAL_GO,
    ActionId.VOTE_NO_GO: Vote.NO_GO,
}
VOTE_SUBMITS = {ActionId.VOTE_CONDITIONAL_SUBMIT: Vote.CONDITIONAL_GO, ActionId.VOTE_NO_GO_SUBMIT: Vote.NO_GO}


class MalformedPayload(LaunchdeckError):
    """A signed request whose body is not what Slack sends for this endpoint (or not one we
    rendered the ids for). Answered as a 400: Slack never sends these, so it is a bug or a probe."""

    code = "bad_slack_payload"


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("the body is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _text(data: Any, *path: str) -> str | None:
    """``data[a][b]...`` when it is a string, else None (payload fields are optional in places)."""
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) else None


# --- interactions ------------------------------------------------------------------------------


def parse_interaction(body: bytes) -> Interaction:
    """A verified interactivity body (``payload=<json>``) as one typed request."""
    return parse_payload(interaction_payload(body))


def interaction_payload(body: bytes) -> dict[str, Any]:
    """The JSON object of a verified interactivity body (``payload=<json>``), as Slack sent it."""
    raw = _form(body).get("payload")
    if raw is None:
        raise MalformedPayload("an interaction must carry a 'payload' field")
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError:
        raise MalformedPayload("the 'payload' field is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("the 'payload' field is not a JSON object")
    return payload


def parse_payload(payload: dict[str, Any]) -> Interaction:
    """An interaction's JSON object (``interaction_payload``, or as recorded) as a typed request."""
    kind = payload.get("type")
    user_id = _text(payload, "user", "id")
    if kind == "block_actions":
        if not user_id:
            raise MalformedPayload("block_actions without user.id")
        return _parse_block_action(payload, user_id)
    if kind == "view_submission":
        if not user_id:
            raise MalformedPayload("view_submission without user.id")
        return _parse_view_submission(payload, user_id)
    if kind == "message_action" and _text(payload, "callback_id") == ActionId.BETA_FEEDBACK:
        trigger_id = _text(payload, "trigger_id")
        if not user_id or not trigger_id:
            raise MalformedPayload("a message shortcut without user.id or trigger_id")
        return _parse_shortcut(payload, user_id, trigger_id)
    return Unhandled(kind=str(kind))


def _parse_block_action(payload: dict[str, Any], user_id: str) -> Interaction:
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise MalformedPayload("block_actions without actions")
    action = actions[0]
    response_url = _text(payload, "response_url")
    try:
        action_id = ActionId(_text(action, "action_id") or "")
    except ValueError:
        return Unhandled(kind=f"block_actions:{action.get('action_id')}")
    try:
        if action_id is ActionId.ITEM_DONE:
            return DoneClick(user_id, ItemRef.from_value(_text(action, "value") or ""), response_url)
        if action_id is ActionId.ITEM_OVERFLOW:
            ref = ItemChoiceRef.from_value(_text(action, "selected_option", "value") or "")
            trigger_id = _text(payload, "trigger_id")
            if not trigger_id:
                raise MalformedPayload("an overflow choice without trigger_id cannot open a modal")
            return OverflowChoice(user_id, ref, trigger_id, response_url)
        if action_id in VOTE_BUTTONS:
            gate = GateRef.from_value(_text(action, "value") or "")
            return VoteClick(user_id, gate, VOTE_BUTTONS[action_id], _text(payload, "trigger_id"), response_url)
    except ValueError as error:
        raise MalformedPayload(f"{action_id.value}: {error}") from None
    if action_id is ActionId.OPEN_DASHBOARD:
        return Unhandled(kind=action_id.value)  # a link button: Slack opens the URL itself
    return Unhandled(
        kind=action_id.value,
        text="That action is not available from Slack yet: use the launchdeck CLI or API.",
        response_url=response_url,
    )


def _parse_view_submission(payload: dict[str, Any], user_id: str) -> Interaction:
    view = payload.get("view")
    if not isinstance(view, dict):
        raise MalformedPayload("view_submission without view")
    if _text(view, "callback_id") == ActionId.BETA_FEEDBACK_SUBMIT:
        return _parse_feedback_submission(view, user_id)
    if _text(view, "callback_id") in VOTE_SUBMITS:
        return _parse_vote_submission(view, user_id)
    if _text(view, "callback_id") == ActionId.OPS_CONFIRM:
        try:
            ops = OpsRef.from_value(_text(view, "private_metadata") or "")
        except ValueError as error:
            raise MalformedPayload(f"prod ops modal: {error}") from None
        return OpsSubmission(user_id, ops, _value(_text_dict(view, "state", "values"), InputId.OPS_REASON))
    try:
        choice = _CHOICE_FOR_CALLBACK[ActionId(_text(view, "callback_id") or "")]
    except (ValueError, KeyError):
        return Unhandled(kind=f"view_submission:{view.get('callback_id')}")
    input_id = ITEM_INPUTS[choice]
    try:
        ref = ItemRef.from_value(_text(view, "private_metadata") or "")
    except ValueError as error:
        raise MalformedPayload(f"{choice.value} modal: {error}") from None
    value = _text(view, "state", "values", input_id.value, input_id.value, "value") or ""
    return ItemSubmission(user_id=user_id, choice=choice, ref=ref, value=value)


def _parse_vote_submission(view: dict[str, Any], user_id: str) -> VoteSubmission:
    vote = VOTE_SUBMITS[ActionId(_text(view, "callback_id") or "")]
    try:
        gate = GateRef.from_value(_text(view, "private_metadata") or "")
    except ValueError as error:
        raise MalformedPayload(f"vote modal: {error}") from None
    values = _text_dict(view, "state", "values")
    risk = values.get(InputId.VOTE_RISK_OWNER.value, {}).get(InputId.VOTE_RISK_OWNER.value, {})
    when = values.get(InputId.VOTE_REEVALUATE.value, {}).get(InputId.VOTE_REEVALUATE.value, {})
    return VoteSubmission(
        user_id=user_id,
        gate=gate,
        vote=vote,
        text=_value(values, InputId.VOTE_CONDITIONS if vote is Vote.CONDITIONAL_GO else InputId.VOTE_REASON),
        risk_user_id=_text(risk, "selected_user"),
        reevaluate_on=_text(when, "selected_date"),
    )


# --- beta feedback: the message shortcut and the modal's submission -----------------------------


def message_link(payload: dict[str, Any]) -> str | None:
    """A link back to the message a shortcut was used on (Slack's archive URL form)."""
    domain = _text(payload, "team", "domain")
    channel = _text(payload, "channel", "id")
    ts = _text(payload, "message", "ts")
    if not (domain and channel and ts) or not ts.replace(".", "").isdigit():
        return None
    return f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _parse_shortcut(payload: dict[str, Any], user_id: str, trigger_id: str) -> FeedbackOpen:
    """The shortcut pre-fills the modal with the message's text and a link back to it, so what a
    customer said in a channel is logged without retyping it."""
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


def _parse_feedback_submission(view: dict[str, Any], user_id: str) -> FeedbackSubmission:
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


# --- the /launch command and the Events API ----------------------------------------------------


def command_form(body: bytes) -> dict[str, str]:
    """A verified slash-command body's fields, without Slack's (deprecated) verification token:
    what is recorded of the command."""
    form = _form(body)
    form.pop("token", None)
    return form


def parse_command(body: bytes) -> SlashCommand:
    """A verified slash-command body: ``status <slug>``, ``mine``, ``feedback [slug]``,
    ``kickoff <slug>``, ``halt|resume|rollback <slug> [region]``, ``help`` (or anything else)."""
    form = _form(body)
    user_id = form.get("user_id")
    if not user_id:
        raise MalformedPayload("a slash command without user_id")
    command = form.get("command") or "/launch"
    words = form.get("text", "").split()
    head, args = (words[0].lower(), [word.lower() for word in words[1:]]) if words else (CommandKind.HELP, [])
    first = args[0] if args else None
    opens = {"trigger_id": form.get("trigger_id") or None, "response_url": form.get("response_url") or None}
    if head == CommandKind.STATUS and len(args) == 1:
        return SlashCommand(user_id=user_id, kind=CommandKind.STATUS, argument=first, command=command)
    if head == CommandKind.FEEDBACK and len(args) <= 1:
        return SlashCommand(user_id, CommandKind.FEEDBACK, first, command=command, trigger_id=opens["trigger_id"])
    if head in OPS_COMMANDS and len(args) <= (1 if head == CommandKind.KICKOFF else 2):
        region = args[1].upper() if len(args) == 2 else None
        return SlashCommand(user_id, CommandKind(head), first, command=command, region=region, **opens)
    if head in (CommandKind.MINE, CommandKind.HELP, CommandKind.LOGIN) and not args:
        return SlashCommand(user_id=user_id, kind=CommandKind(head), command=command)
    return SlashCommand(user_id=user_id, kind=CommandKind.HELP, unknown=" ".join(words), command=command)


def parse_event(body: bytes) -> SlackEvent:
    """A verified Events API body (JSON)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedPayload("an Events API body must be JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MalformedPayload("an Events API body must be an object with a 'type'")
    return SlackEvent(type=data["type"], challenge=_text(data, "challenge"), event_id=_text(data, "event_id"))
