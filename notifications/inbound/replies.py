"""What to answer Slack: every outcome of a request is a ``Reply`` (what to answer, which modal to
open, what to post to ``response_url``); the HTTP layer only carries it out.

One Slack error path: known domain errors become a friendly sentence (``friendly``); anything else
is logged under a fresh incident id that the user is also shown (``incident_text``).
"""

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from notifications.inbound.members import Refused
from orchestrator.core.errors import (
    Forbidden,
    IllegalTransition,
    InvalidInput,
    LaunchdeckError,
    NotFound,
    PreconditionFailed,
    StaleVersion,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingView:
    trigger_id: str
    view: dict[str, Any]


@dataclass(frozen=True)
class DirectMessage:
    """A message for one person alone, posted to their DM with the app after the answer."""

    user_id: str
    text: str
    blocks: list[dict[str, Any]]


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
    closes: bool = False  # a submitted modal closes (empty answer); ``text`` goes to ``response_url`` only
    direct: DirectMessage | None = None  # a DM to send after answering (``/launch login``'s link)

    def body(self) -> dict[str, Any] | None:
        """The JSON answer, or None for an empty 200."""
        if self.errors:
            return {"response_action": "errors", "errors": self.errors}
        if self.notice is not None:
            return {"response_action": "update", "view": self.notice}
        if self.closes:
            return None
        if self.text is not None:
            return {"response_type": "ephemeral", "text": self.text}
        return None


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
