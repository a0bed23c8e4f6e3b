"""What people do in Slack, turned into orchestrator service calls: buttons, overflow choices,
modal submissions and the ``/launch`` command.

Two layers, so each can be tested on its own:

- **Parsing** (pure): a verified, form-encoded body becomes one typed request (``DoneClick``,
  ``OverflowChoice``, ``ItemSubmission``, ``SlashCommand``...). Ids are closed vocabularies
  (``ActionId``, ``InputId``) and button values are validated ``ItemRef``s, so a payload we did
  not render fails here instead of reaching a service. Callers must verify the signature first
  (``notifications.signing``); nothing here trusts a body on its own.
- **Handling**: the Slack user is mapped to a ``Member`` (by ``slack_user_id``) and the change
  is made by the same orchestrator services the API uses, as ``Actor(source=SLACK)``, so audit,
  outbox and gate rules are identical whichever door a change came through. Only members of the
  item's owner team, or product ops / admins, may change an item; anyone else is told why and
  nothing changes. Every outcome is a ``Reply`` (what to answer, which modal to open, what to
  post to ``response_url``); the HTTP layer only transports it.

Double clicks arrive as two different payloads (research/slack.md §2.7), so idempotency is the
domain's: the services treat "already done" as a no-op, and a click on a button rendered at an
older version re-reads the item instead of failing.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl

from slack_sdk.models.blocks import (
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UrlInputElement,
)
from slack_sdk.models.views import View
from slack_sdk.webhook import WebhookClient
from sqlalchemy import or_
from sqlmodel import Session, col, select

from notifications.beta_slack import (
    FIELD_INPUTS,
    FeedbackOpen,
    FeedbackSubmission,
    feedback_modal,
    parse_shortcut,
    parse_submission,
)
from notifications.ids import ActionId, InputId, ItemChoice, ItemChoiceRef, ItemRef
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import exit_criteria_mrkdwn, fit_mrkdwn, mention, phase_label, shorten
from orchestrator.beta.feedback import submit_feedback
from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import (
    SATISFYING_STATUSES,
    FeedbackType,
    GateStatus,
    ItemStatus,
    LaunchStatus,
    Phase,
    Source,
)
from orchestrator.core.errors import (
    Forbidden,
    IllegalTransition,
    InvalidInput,
    LaunchdeckError,
    NotFound,
    PreconditionFailed,
    StaleVersion,
)
from orchestrator.core.models import ChecklistItem, Launch, Member, Region, RegionRollout, Team
from orchestrator.core.policy import FEEDBACK_AUTHORS, authorize_item_change, may_grant_waiver
from orchestrator.core.settings import Settings
from orchestrator.items import details as item_details
from orchestrator.items import service as item_services
from orchestrator.launches.queries import RolloutView, launch_detail, launch_id_for
from orchestrator.launches.spec import SLUG_PATTERN

log = logging.getLogger(__name__)

REASON_MAX = 1000  # the AuditEvent.reason / Waiver.reason column length
TEXT_MAX = 3000  # keep answers to one section's worth of text
MINE_LIMIT = 15  # lines in a `/launch mine` answer before "and N more"
_ERROR_TEXT_MAX = 300
_ITEM_ACTIONS = {
    ItemChoice.WAIVE: ActionId.WAIVE_SUBMIT,
    ItemChoice.EVIDENCE: ActionId.EVIDENCE_SUBMIT,
    ItemChoice.BLOCK: ActionId.BLOCK_SUBMIT,
}
_CHOICE_FOR_CALLBACK = {callback: choice for choice, callback in _ITEM_ACTIONS.items()}
_INPUT_FOR_CHOICE = {
    ItemChoice.WAIVE: InputId.WAIVE_REASON,
    ItemChoice.EVIDENCE: InputId.EVIDENCE_URL,
    ItemChoice.BLOCK: InputId.BLOCKED_REASON,
}


class MalformedPayload(LaunchdeckError):
    """A signed request whose body is not what Slack sends for this endpoint (or not one we
    rendered the ids for). Answered as a 400: Slack never sends these, so it is a bug or a probe."""

    code = "bad_slack_payload"


class Refused(LaunchdeckError):
    """The Slack user may not do this (unknown to launchdeck, or not in the item's owner team)."""

    code = "slack_refused"


# --- parsed requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DoneClick:
    """The item's Done button."""

    user_id: str
    ref: ItemRef
    response_url: str | None = None


@dataclass(frozen=True)
class OverflowChoice:
    """An option of the item's overflow menu: each opens a modal asking for what it needs."""

    user_id: str
    ref: ItemChoiceRef
    trigger_id: str
    response_url: str | None = None


@dataclass(frozen=True)
class ItemSubmission:
    """A submitted waive / evidence / blocked modal: the item it was opened for and its one input."""

    user_id: str
    choice: ItemChoice
    ref: ItemRef
    value: str


@dataclass(frozen=True)
class Unhandled:
    """A valid interaction this app does not act on (a link button's click, a shortcut...).
    Acknowledged with an empty 200 so Slack shows no error; ``text`` explains, when there is one."""

    kind: str
    text: str | None = None
    response_url: str | None = None


Interaction = DoneClick | OverflowChoice | ItemSubmission | FeedbackOpen | FeedbackSubmission | Unhandled


class CommandKind(StrEnum):
    STATUS = "status"
    MINE = "mine"
    FEEDBACK = "feedback"
    HELP = "help"


@dataclass(frozen=True)
class SlashCommand:
    """``/launch <text>``; an unknown sub-command is ``HELP`` with ``unknown`` set, so the user is
    shown what exists instead of an error."""

    user_id: str
    kind: CommandKind
    argument: str | None = None
    unknown: str | None = None
    command: str = "/launch"
    trigger_id: str | None = None  # opens a modal (``feedback``)


@dataclass(frozen=True)
class SlackEvent:
    """An Events API envelope: only ``url_verification`` needs an answer; the rest is acknowledged."""

    type: str
    challenge: str | None = None
    event_id: str | None = None


# --- parsing (pure) ----------------------------------------------------------------------------


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("the body is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def _text(data: Mapping[str, Any], *path: str) -> str | None:
    """``data[a][b]...`` when it is a string, else None (payload fields are optional in places)."""
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) else None


def parse_interaction(body: bytes) -> Interaction:
    """A verified interactivity body (``payload=<json>``) as one typed request."""
    raw = _form(body).get("payload")
    if raw is None:
        raise MalformedPayload("an interaction must carry a 'payload' field")
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError:
        raise MalformedPayload("the 'payload' field is not JSON") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("the 'payload' field is not a JSON object")
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
        return parse_shortcut(payload, user_id, trigger_id)
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
        return parse_submission(view, user_id)
    try:
        choice = _CHOICE_FOR_CALLBACK[ActionId(_text(view, "callback_id") or "")]
    except (ValueError, KeyError):
        return Unhandled(kind=f"view_submission:{view.get('callback_id')}")
    input_id = _INPUT_FOR_CHOICE[choice]
    try:
        ref = ItemRef.from_value(_text(view, "private_metadata") or "")
    except ValueError as error:
        raise MalformedPayload(f"{choice.value} modal: {error}") from None
    value = _text(view, "state", "values", input_id.value, input_id.value, "value") or ""
    return ItemSubmission(user_id=user_id, choice=choice, ref=ref, value=value)


def parse_command(body: bytes) -> SlashCommand:
    """A verified slash-command body: ``status <slug>``, ``mine``, ``help`` (or anything else)."""
    form = _form(body)
    user_id = form.get("user_id")
    if not user_id:
        raise MalformedPayload("a slash command without user_id")
    command = form.get("command") or "/launch"
    words = form.get("text", "").split()
    if not words:
        return SlashCommand(user_id=user_id, kind=CommandKind.HELP, command=command)
    head = words[0].lower()
    if head == CommandKind.STATUS and len(words) == 2:
        return SlashCommand(user_id=user_id, kind=CommandKind.STATUS, argument=words[1].lower(), command=command)
    if head == CommandKind.FEEDBACK and len(words) <= 2:
        argument = words[1].lower() if len(words) == 2 else None
        return SlashCommand(
            user_id=user_id,
            kind=CommandKind.FEEDBACK,
            argument=argument,
            command=command,
            trigger_id=form.get("trigger_id") or None,
        )
    if head in (CommandKind.MINE, CommandKind.HELP) and len(words) == 1:
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


# --- the outside: opening modals, answering through response_url --------------------------------


@runtime_checkable
class ViewOpener(Protocol):
    """Opens a modal (``views.open``). Needs Slack's Web API and a ``trigger_id`` that expires
    three seconds after the click, so it runs after the HTTP answer, never inside a transaction."""

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None: ...


@runtime_checkable
class Responder(Protocol):
    """Posts an ephemeral follow-up to an interaction's ``response_url``: Slack ignores the HTTP
    answer's body for button clicks, so this is how a refusal reaches the person who clicked."""

    def respond(self, *, response_url: str, text: str) -> None: ...


class UnwiredViewOpener:
    """Used when no Slack Web API transport offers ``open_view``: says so in the log, loudly once
    per modal, rather than failing the click (the user sees no modal and can retry later)."""

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        log.warning(
            "cannot open modal %s: no Slack Web API transport with open_view is configured "
            "(set LAUNCHDECK_SLACK_BOT_TOKEN)",
            view.get("callback_id"),
        )


class WebhookResponder:
    """``Responder`` over slack_sdk's ``WebhookClient`` (response_url needs no token)."""

    def __init__(self, *, timeout: int = 5) -> None:
        self.timeout = timeout

    def respond(self, *, response_url: str, text: str) -> None:
        if not response_url.startswith("https://"):
            log.warning("not answering to a non-https response_url")
            return
        WebhookClient(response_url, timeout=self.timeout).send(
            text=text, response_type="ephemeral", replace_original=False
        )


def view_opener_from_settings(settings: Settings) -> ViewOpener:
    """The Slack transport when a bot token is set and it can open views; otherwise a logger."""
    if settings.slack_bot_token is not None:
        from notifications.delivery.slack_transport import SlackTransport

        transport = SlackTransport.from_settings(settings)
        if isinstance(transport, ViewOpener):
            return transport
    return UnwiredViewOpener()


def run_quietly(action: Callable[[], None], *, what: str) -> None:
    """Run a Slack call after the answer was sent: nobody is left to tell but the log."""
    try:
        action()
    except Exception:  # a failed follow-up must never take down the worker thread
        log.exception("Slack follow-up failed: %s", what)


# --- handling ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingView:
    trigger_id: str
    view: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """What to do with an interaction, decided; the HTTP layer only carries it out.

    ``text``: an ephemeral message for the user (also posted to ``response_url`` when one is
    known, since button clicks do not show the HTTP answer). ``view``: a modal to open after
    answering. ``errors``: per-input messages that keep a submitted modal open.
    """

    text: str | None = None
    response_url: str | None = None
    view: PendingView | None = None
    errors: dict[str, str] = field(default_factory=dict)
    notice: dict[str, Any] | None = None  # a view that replaces a submitted modal (a confirmation)

    def body(self) -> dict[str, Any] | None:
        """The JSON answer, or None for an empty 200."""
        if self.errors:
            return {"response_action": "errors", "errors": self.errors}
        if self.notice is not None:
            return {"response_action": "update", "view": self.notice}
        if self.text is not None:
            return {"response_type": "ephemeral", "text": self.text}
        return None


def handle_interaction(*, session: Session, interaction: Interaction) -> Reply:
    """Carry out one parsed interaction. Never raises: domain errors become friendly texts (or
    modal errors), anything else a text with an incident id that is also logged."""
    response_url = getattr(interaction, "response_url", None)
    try:
        if isinstance(interaction, DoneClick):
            return _done(session, interaction)
        if isinstance(interaction, OverflowChoice):
            return _overflow(session, interaction)
        if isinstance(interaction, ItemSubmission):
            return _submit(session, interaction)
        if isinstance(interaction, FeedbackOpen):
            member_for(session, interaction.user_id)  # an unknown user is told before typing anything
            modal = feedback_modal(launch=interaction.launch, text=interaction.text, link=interaction.link)
            return Reply(view=PendingView(trigger_id=interaction.trigger_id, view=modal))
        if isinstance(interaction, FeedbackSubmission):
            return _submit_feedback(session, interaction)
        return Reply(text=interaction.text, response_url=response_url)
    except LaunchdeckError as error:
        text = friendly(error)
        if isinstance(interaction, FeedbackSubmission):
            return Reply(errors={_feedback_input(error).value: shorten(text, _ERROR_TEXT_MAX)})
        if isinstance(interaction, ItemSubmission):
            return Reply(errors={_INPUT_FOR_CHOICE[interaction.choice].value: shorten(text, _ERROR_TEXT_MAX)})
        return Reply(text=text, response_url=response_url)
    except Exception as error:  # noqa: BLE001 - the one place unknown errors become an incident id
        text = incident_text(error)
        if isinstance(interaction, FeedbackSubmission):
            return Reply(errors={InputId.FEEDBACK_TEXT.value: shorten(text, _ERROR_TEXT_MAX)})
        if isinstance(interaction, ItemSubmission):
            return Reply(errors={_INPUT_FOR_CHOICE[interaction.choice].value: shorten(text, _ERROR_TEXT_MAX)})
        return Reply(text=text, response_url=response_url)


def friendly(error: LaunchdeckError) -> str:
    """A domain error as a sentence for the person in Slack (what happened, what to do)."""
    if isinstance(error, Refused):
        return f":no_entry: {error.message}"
    if isinstance(error, Forbidden):
        return f":no_entry: {error.message[:1].upper()}{error.message[1:]}. Nothing was changed."
    if isinstance(error, StaleVersion):
        return ":arrows_counterclockwise: Someone changed this item at the same moment; nothing was changed. Try again."
    if isinstance(error, NotFound):
        return f":grey_question: {error.message[:1].upper()}{error.message[1:]}."
    if isinstance(error, IllegalTransition | PreconditionFailed | InvalidInput):
        return f":warning: Nothing was changed: {error.message}"
    return f":warning: {error.message}"


def incident_text(error: BaseException) -> str:
    """Log an unexpected error under a fresh incident id and return the text naming it."""
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error handling a Slack request, incident %s", incident, exc_info=error)
    return f":boom: Something went wrong in launchdeck. Quote incident `{incident}` to your launchdeck admin."


def _actor(member: Member) -> Actor:
    """The member as the services see them: their role and team decide, through the access policy,
    what they may change (the same rule as the API's)."""
    return Actor(name=member.email, source=Source.SLACK, member_id=member.id, role=member.role, team_id=member.team_id)


def member_for(session: Session, slack_user_id: str) -> Member:
    """The member linked to a Slack user, or a refusal naming the id to link."""
    member = session.exec(select(Member).where(Member.slack_user_id == slack_user_id)).first()
    if member is None:
        raise Refused(
            f"launchdeck does not know Slack user <@{slack_user_id}>, so nothing was changed. "
            f"Ask product ops to add your Slack user id ({slack_user_id}) to your member record."
        )
    return member


def _item(session: Session, item_id: int) -> tuple[ChecklistItem, str]:
    """The item read fresh (never a cached copy), with its owner team's key: for what a reply or a
    modal shows. Changes go through the services, which read it again under their lock."""
    row = session.exec(
        select(ChecklistItem, Team.key)
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(ChecklistItem.id == item_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("checklist item", item_id)
    return row


def _closed_text(item: ChecklistItem) -> str:
    who = f" by {mention(item.checked_by)}" if item.checked_by else ""
    when = f" on {as_utc(item.checked_at):%Y-%m-%d %H:%M} UTC" if item.checked_at else ""
    label = {ItemStatus.DONE: "done", ItemStatus.WAIVED: "waived", ItemStatus.NOT_APPLICABLE: "not applicable"}
    return f"'{esc(item.title)}' is already {label.get(item.status, item.status.value)}{who}{when}; nothing changed."


def _done(session: Session, click: DoneClick) -> Reply:
    """Check the item off. A double click, or a button rendered before someone else closed the
    item, changes nothing and says who closed it."""
    actor = _actor(member_for(session, click.user_id))
    try:
        change = item_services.check_item(session=session, item_id=click.ref.item_id, actor=actor)
    except IllegalTransition:
        item, _team = _item(session, click.ref.item_id)
        if item.status not in SATISFYING_STATUSES:
            raise
        return Reply(text=_closed_text(item), response_url=click.response_url)  # waived or n/a already
    if not change.changed:
        return Reply(text=_closed_text(change.item), response_url=click.response_url)
    return Reply()


def _overflow(session: Session, choice: OverflowChoice) -> Reply:
    """Open the modal the choice asks for, if the member may change the item at all (the service
    that the modal's submission calls decides again, under its lock)."""
    actor = _actor(member_for(session, choice.user_id))
    item, team = _item(session, choice.ref.item_id)
    authorize_item_change(actor, item=f"'{esc(item.title)}'", owner_team_id=item.owner_team_id, owner_team=team)
    if choice.ref.choice is not ItemChoice.EVIDENCE and item.status in SATISFYING_STATUSES:
        return Reply(text=_closed_text(item), response_url=choice.response_url)
    ref = ItemRef(item_id=item.id, version=item.version)
    modal = item_modal(choice.ref.choice, ref=ref, title=item.title, grants_waiver=may_grant_waiver(actor))
    return Reply(view=PendingView(trigger_id=choice.trigger_id, view=modal))


def _submit(session: Session, submission: ItemSubmission) -> Reply:
    actor = _actor(member_for(session, submission.user_id))
    value = submission.value.strip()
    item_id = submission.ref.item_id
    if submission.choice is ItemChoice.EVIDENCE:
        item_details.attach_evidence(session=session, item_id=item_id, url=value, actor=actor)
        return Reply()
    if submission.choice is ItemChoice.BLOCK:
        item_services.block_item(session=session, item_id=item_id, actor=actor, reason=value)
        return Reply()
    if may_grant_waiver(actor):
        item_services.waive_item(session=session, item_id=item_id, actor=actor, reason=value)
        return Reply()
    # A team cannot grant its own waiver (a waiver can open a gate): it asks product ops, on the record.
    item_details.comment_on_item(session=session, item_id=item_id, text=f"Waiver requested: {value}", actor=actor)
    title, _team = _item(session, item_id)
    asked = f"Product ops has been asked to waive *{esc(shorten(title.title, 200))}*."
    return Reply(notice=notice_view("Waiver requested", asked))


def _feedback_input(error: LaunchdeckError) -> InputId:
    """The modal input a refused report's error belongs under (the text box when unclear)."""
    if isinstance(error, InvalidInput):
        return FIELD_INPUTS.get(error.field, InputId.FEEDBACK_TEXT)
    if isinstance(error, NotFound):
        return InputId.FEEDBACK_REGION if error.entity == "region" else InputId.FEEDBACK_LAUNCH
    return InputId.FEEDBACK_TEXT


def _phase(value: str) -> Phase:
    try:
        return Phase(value)
    except ValueError:
        raise InvalidInput("phase", f"choose one of {', '.join(phase.value for phase in Phase)}") from None


def _feedback_type(value: str) -> FeedbackType:
    try:
        return FeedbackType(value)
    except ValueError:
        raise InvalidInput("type", f"choose one of {', '.join(kind.value for kind in FeedbackType)}") from None


def _submit_feedback(session: Session, submission: FeedbackSubmission) -> Reply:
    member = member_for(session, submission.user_id)
    if member.role not in FEEDBACK_AUTHORS:
        raise Refused(f"your launchdeck role ({member.role.value}) cannot log beta feedback; ask product ops")
    if not submission.severity.isdigit():
        raise InvalidInput("severity", "choose a severity from 1 to 4")
    feedback = submit_feedback(
        session=session,
        launch_id=launch_id_for(session=session, slug=submission.launch),
        region_code=submission.region,
        phase=_phase(submission.phase),
        account=submission.account,
        type=_feedback_type(submission.type),
        severity=int(submission.severity),
        text=submission.text,
        link=submission.link,
        actor=_actor(member),
    )
    halted = session.get(RegionRollout, feedback.rollout_id)
    note = ""
    if halted is not None and halted.halt_reason and f"#{feedback.id} " in halted.halt_reason:
        note = (
            f"\n:octagonal_sign: Severity 1 during a ramp: *{esc(submission.region)}* was halted and the owner alerted."
        )
    logged = f"Logged as report #{feedback.id} for `{esc(submission.launch)}` {esc(submission.region)}.{note}"
    return Reply(notice=notice_view("Beta feedback logged", logged))


# --- modals ------------------------------------------------------------------------------------

_MODAL_TEXT: dict[ItemChoice, tuple[str, str, str]] = {
    # choice: (title ≤ 24 chars, input label, placeholder)
    ItemChoice.BLOCK: ("Mark blocked", "What blocks it?", "Waiting on the DPA signature from legal"),
    ItemChoice.WAIVE: ("Request a waiver", "Why can it be skipped?", "Risk accepted because..."),
    ItemChoice.EVIDENCE: ("Add evidence", "Link to the evidence", "https://"),
}


def item_modal(choice: ItemChoice, *, ref: ItemRef, title: str, grants_waiver: bool = False) -> dict[str, Any]:
    """The modal an overflow choice opens: one required input, the item (id and version) in
    ``private_metadata``, and the submit ``callback_id`` the submission is routed by. Built with
    slack_sdk's models so Slack's limits are checked here rather than by ``views.open``."""
    heading, label, placeholder = _MODAL_TEXT[choice]
    if choice is ItemChoice.WAIVE and grants_waiver:
        heading, label = "Waive item", "Why is the risk accepted?"
    input_id = _INPUT_FOR_CHOICE[choice].value
    element: PlainTextInputElement | UrlInputElement
    if choice is ItemChoice.EVIDENCE:
        element = UrlInputElement(action_id=input_id, placeholder=placeholder)
    else:
        element = PlainTextInputElement(
            action_id=input_id, multiline=True, max_length=REASON_MAX, placeholder=placeholder
        )
    view = View(
        type="modal",
        callback_id=_ITEM_ACTIONS[choice].value,
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


# --- /launch -----------------------------------------------------------------------------------


def handle_command(*, session: Session, command: SlashCommand) -> Reply:
    """``/launch status|mine|help``; read-only, answered in the acknowledgement itself."""
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
        f"• `{command} help`: this list",
        "Check items off with the *Done* button on their messages; the ⋯ menu blocks, waives or adds evidence.",
    ]
    return "\n".join(line for line in lines if line)


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


def mine_text(session: Session, member: Member) -> str:
    """Open items of the member's team or assigned to them, in launches still going, soonest due first."""
    mine = [col(ChecklistItem.assignee_id) == member.id]
    if member.team_id is not None:
        mine.append(col(ChecklistItem.owner_team_id) == member.team_id)
    rows = session.exec(
        select(ChecklistItem, Launch.slug, Region.code)
        .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
        .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(
            or_(*mine),
            col(ChecklistItem.status).not_in(SATISFYING_STATUSES),
            col(Launch.status).in_([LaunchStatus.DRAFT, LaunchStatus.ACTIVE]),
        )
        .order_by(col(ChecklistItem.due_at).is_(None), col(ChecklistItem.due_at), col(ChecklistItem.id))
        .limit(MINE_LIMIT + 1)
    ).all()
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
