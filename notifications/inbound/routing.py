"""The one place a parsed interaction goes to its family (``items``, ``feedback``, ``approvals``, ``ops``) and where its
failures become replies.

Handling never raises: a domain error becomes a friendly text, anything else a text with an
incident id that is also logged (``replies``). A submitted modal that is refused stays open with
the text under the input it is about; anything else is told in an ephemeral message (also posted
to ``response_url`` for clicks, whose HTTP answer Slack does not show).
"""

from sqlmodel import Session

from notifications.inbound import approvals, feedback, items, ops
from notifications.inbound.modals import notice_view
from notifications.inbound.replies import Reply, friendly, incident_text
from notifications.inbound.requests import (
    DoneClick,
    FeedbackOpen,
    FeedbackSubmission,
    Interaction,
    ItemSubmission,
    OpsSubmission,
    OverflowChoice,
    Unhandled,
    VoteClick,
    VoteSubmission,
)
from notifications.mrkdwn import shorten
from orchestrator.core.errors import LaunchdeckError

ERROR_TEXT_MAX = 300  # what a modal shows under an input


def handle_interaction(*, session: Session, interaction: Interaction) -> Reply:
    """Carry out one parsed interaction. Never raises: domain errors become friendly texts (or
    modal errors), anything else a text with an incident id that is also logged."""
    try:
        return _route(session, interaction)
    except LaunchdeckError as error:
        return _failed(interaction, friendly(error), error)
    except Exception as error:  # noqa: BLE001 - the one place unknown errors become an incident id
        return _failed(interaction, incident_text(error), error)


def _route(session: Session, interaction: Interaction) -> Reply:
    if isinstance(interaction, DoneClick):
        return items.handle_done(session, interaction)
    if isinstance(interaction, OverflowChoice):
        return items.handle_overflow(session, interaction)
    if isinstance(interaction, ItemSubmission):
        return items.handle_submission(session, interaction)
    if isinstance(interaction, FeedbackOpen):
        return feedback.handle_open(session, interaction)
    if isinstance(interaction, FeedbackSubmission):
        return feedback.handle_submission(session, interaction)
    if isinstance(interaction, VoteClick):
        return approvals.handle_click(session, interaction)
    if isinstance(interaction, VoteSubmission):
        return approvals.handle_submission(session, interaction)
    if isinstance(interaction, OpsSubmission):
        return ops.handle_submission(session, interaction)
    assert isinstance(interaction, Unhandled)
    return Reply(text=interaction.text, response_url=interaction.response_url)


def _failed(interaction: Interaction, text: str, error: Exception) -> Reply:
    if isinstance(interaction, FeedbackSubmission):
        return Reply(errors={feedback.submission_input(error).value: shorten(text, ERROR_TEXT_MAX)})
    if isinstance(interaction, ItemSubmission):
        return Reply(errors={items.submission_input(interaction).value: shorten(text, ERROR_TEXT_MAX)})
    if isinstance(interaction, VoteSubmission):
        return Reply(errors={approvals.submission_input(interaction, error).value: shorten(text, ERROR_TEXT_MAX)})
    if isinstance(interaction, OpsSubmission):
        input_id = ops.submission_input(interaction)
        if input_id is None:  # a kickoff's modal has no input to show it under: it becomes the notice
            return Reply(notice=notice_view("Not kicked off", text))
        return Reply(errors={input_id.value: shorten(text, ERROR_TEXT_MAX)})
    return Reply(text=text, response_url=getattr(interaction, "response_url", None))
