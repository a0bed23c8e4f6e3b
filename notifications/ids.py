"""The names Slack hands back to us: action ids, modal callback ids, input ids, and the small
typed references carried in button and option values.

An interaction payload is untrusted, so everything the handler needs to find the record is a
closed vocabulary (StrEnums: an unknown id fails parsing instead of falling through a string
compare) or a pydantic model that validates on the way back in. Values carry only ids and a
version, never state: the database is the source of truth, and the version lets the handler
refuse a click on a button rendered before someone else changed the item (compare-and-set).
"""

from enum import StrEnum
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Slack's limits for what a value may hold (research/slack.md §3.1).
BUTTON_VALUE_MAX = 2000
OPTION_VALUE_MAX = 150


class ActionId(StrEnum):
    """``action_id`` of interactive elements and ``callback_id`` of the modals they open."""

    ITEM_DONE = "item_done"
    ITEM_OVERFLOW = "item_overflow"
    WAIVE_SUBMIT = "waive_submit"
    EVIDENCE_SUBMIT = "evidence_submit"
    BLOCK_SUBMIT = "block_submit"
    HALT_REGION = "halt_region"
    CONFIRM_HALT = "confirm_halt"
    OPEN_DASHBOARD = "open_dashboard"
    BETA_FEEDBACK = "beta_feedback"  # the message shortcut's callback_id (manifest.yaml)
    BETA_FEEDBACK_SUBMIT = "beta_feedback_submit"
    VOTE_GO = "vote_go"
    VOTE_CONDITIONAL = "vote_conditional"
    VOTE_NO_GO = "vote_no_go"
    VOTE_CONDITIONAL_SUBMIT = "vote_conditional_submit"
    VOTE_NO_GO_SUBMIT = "vote_no_go_submit"
    OPS_CONFIRM = "ops_confirm"  # the confirmation modal of /launch kickoff|halt|resume|rollback


class ItemChoice(StrEnum):
    """What an item's overflow menu offers; each opens a modal that asks for what it needs
    (a reason for blocked and waive, a URL for evidence) before anything changes."""

    BLOCK = "block"
    WAIVE = "waive"
    EVIDENCE = "evidence"


class InputId(StrEnum):
    """``block_id``/``action_id`` of modal inputs, so the submit handler reads ``state.values``
    by name instead of by position."""

    WAIVE_REASON = "waive_reason"
    EVIDENCE_URL = "evidence_url"
    BLOCKED_REASON = "blocked_reason"
    HALT_REASON = "halt_reason"
    FEEDBACK_LAUNCH = "feedback_launch"
    FEEDBACK_REGION = "feedback_region"
    FEEDBACK_PHASE = "feedback_phase"
    FEEDBACK_ACCOUNT = "feedback_account"
    FEEDBACK_TYPE = "feedback_type"
    FEEDBACK_SEVERITY = "feedback_severity"
    FEEDBACK_TEXT = "feedback_text"
    FEEDBACK_LINK = "feedback_link"
    VOTE_CONDITIONS = "vote_conditions"
    VOTE_RISK_OWNER = "vote_risk_owner"
    VOTE_REASON = "vote_reason"
    VOTE_REEVALUATE = "vote_reevaluate"
    OPS_REASON = "ops_reason"


# Each overflow choice's modal: the ``callback_id`` its submission comes back with, and the one
# input it asks for (a reason, or the evidence URL).
ITEM_SUBMIT_ACTIONS = {
    ItemChoice.WAIVE: ActionId.WAIVE_SUBMIT,
    ItemChoice.EVIDENCE: ActionId.EVIDENCE_SUBMIT,
    ItemChoice.BLOCK: ActionId.BLOCK_SUBMIT,
}
ITEM_INPUTS = {
    ItemChoice.WAIVE: InputId.WAIVE_REASON,
    ItemChoice.EVIDENCE: InputId.EVIDENCE_URL,
    ItemChoice.BLOCK: InputId.BLOCKED_REASON,
}


class _Ref(BaseModel):
    """A compact, frozen JSON reference; ``from_value`` is the only way a payload value becomes one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_length: ClassVar[int] = BUTTON_VALUE_MAX

    def to_value(self) -> str:
        """Compact JSON for a ``value`` field; raises if it would not fit Slack's limit, so an
        oversized reference fails in tests rather than as ``invalid_blocks`` in production."""
        value = self.model_dump_json()
        if len(value) > self.max_length:
            raise ValueError(f"{type(self).__name__} value is {len(value)} chars; Slack allows {self.max_length}")
        return value

    @classmethod
    def from_value(cls, value: str) -> Self:
        """Parse a value sent back by Slack; raises ``ValueError`` on anything we did not render."""
        if len(value) > cls.max_length:
            raise ValueError(f"{cls.__name__} value too long ({len(value)} chars)")
        try:
            return cls.model_validate_json(value)
        except ValidationError as error:
            raise ValueError(f"not a {cls.__name__} value: {error.error_count()} error(s)") from error


class ItemRef(_Ref):
    """One checklist item at the version the message showed (``item_done`` button value)."""

    item_id: int = Field(gt=0)
    version: int = Field(ge=1)


class ItemChoiceRef(_Ref):
    """An overflow option's value: which item, at which version, and which choice. Option
    values are limited to 150 characters, so this stays a flat, short object."""

    max_length: ClassVar[int] = OPTION_VALUE_MAX

    item_id: int = Field(gt=0)
    version: int = Field(ge=1)
    choice: ItemChoice

    @property
    def item(self) -> ItemRef:
        return ItemRef(item_id=self.item_id, version=self.version)


class RolloutRef(_Ref):
    """One region rollout at a version (halt buttons, the halt confirmation modal's metadata)."""

    rollout_id: int = Field(gt=0)
    version: int = Field(ge=1)


class OpsAction(StrEnum):
    """What a prod ops command confirms: kick off a launch, or pull a brake on one of its regions."""

    KICKOFF = "kickoff"
    HALT = "halt"
    RESUME = "resume"
    ROLLBACK = "rollback"


class OpsRef(_Ref):
    """The confirmation modal's ``private_metadata``: the action, the launch and region as the
    person named them, and where to confirm once it is done (the command's ``response_url``).
    Nothing here is trusted to authorise: the submission is checked again by the service."""

    action: OpsAction
    slug: str = Field(min_length=1, max_length=80)
    region: str | None = Field(default=None, min_length=1, max_length=40)
    response_url: str | None = Field(default=None, max_length=500, pattern=r"^https://hooks\.slack\.com/")


class GateRef(_Ref):
    """One approval gate (the vote buttons' value, the vote modals' metadata)."""

    gate_id: int = Field(gt=0)
