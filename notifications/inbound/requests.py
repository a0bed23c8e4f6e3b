"""The typed requests a verified Slack body is parsed into (``parsing``), one per thing a person
can do: click an item's Done button or overflow, submit an item or feedback modal, use the
feedback shortcut, type ``/launch``. Ids are closed vocabularies and references are validated
(``notifications.ids``), so a request of these types is one we rendered the controls for.
"""

from dataclasses import dataclass
from enum import StrEnum

from notifications.ids import GateRef, ItemChoice, ItemChoiceRef, ItemRef, OpsRef
from orchestrator.core.enums import Vote

# --- interactions (buttons, menus, modals, shortcuts) ------------------------------------------


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


@dataclass(frozen=True)
class VoteClick:
    """An approver's Go, Conditional Go or No-Go button: Go is cast at once, the other two open
    a modal asking for what they need."""

    user_id: str
    gate: GateRef
    vote: Vote
    trigger_id: str | None = None
    response_url: str | None = None


@dataclass(frozen=True)
class VoteSubmission:
    """A submitted Conditional Go (conditions, who accepts the risk) or No-Go (reason, the date to
    look again) modal."""

    user_id: str
    gate: GateRef
    vote: Vote
    text: str
    risk_user_id: str | None = None
    reevaluate_on: str | None = None  # YYYY-MM-DD from the date picker


@dataclass(frozen=True)
class OpsSubmission:
    """A submitted prod ops confirmation (kickoff, halt, resume, roll back): what it confirms, and
    the reason typed (empty for a kickoff, which asks none)."""

    user_id: str
    ref: OpsRef
    reason: str = ""


@dataclass(frozen=True)
class Unhandled:
    """A valid interaction this app does not act on (a link button's click, a shortcut...).
    Acknowledged with an empty 200 so Slack shows no error; ``text`` explains, when there is one."""

    kind: str
    text: str | None = None
    response_url: str | None = None


Interaction = (
    DoneClick
    | OverflowChoice
    | ItemSubmission
    | FeedbackOpen
    | FeedbackSubmission
    | VoteClick
    | VoteSubmission
    | OpsSubmission
    | Unhandled
)


# --- the /launch command -----------------------------------------------------------------------


class CommandKind(StrEnum):
    STATUS = "status"
    MINE = "mine"
    FEEDBACK = "feedback"
    HELP = "help"
    LOGIN = "login"
    # prod ops: each opens a confirmation modal (``notifications.inbound.ops``)
    KICKOFF = "kickoff"
    HALT = "halt"
    RESUME = "resume"
    ROLLBACK = "rollback"


OPS_COMMANDS = frozenset({CommandKind.KICKOFF, CommandKind.HALT, CommandKind.RESUME, CommandKind.ROLLBACK})


@dataclass(frozen=True)
class SlashCommand:
    """``/launch <text>``; an unknown sub-command is ``HELP`` with ``unknown`` set, so the user is
    shown what exists instead of an error."""

    user_id: str
    kind: CommandKind
    argument: str | None = None
    unknown: str | None = None
    command: str = "/launch"
    trigger_id: str | None = None  # opens a modal (``feedback``, the prod ops commands)
    region: str | None = None  # the prod ops commands' region code, upper-cased
    response_url: str | None = None  # where a prod ops confirmation is answered once done


# --- the Events API ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlackEvent:
    """An Events API envelope: only ``url_verification`` needs an answer; the rest is acknowledged."""

    type: str
    challenge: str | None = None
    event_id: str | None = None
