"""Beta feedback from Slack: the "Log beta feedback" message shortcut (and ``/launch feedback``,
in ``commands``) open one modal; its submission becomes a report through the same service the API
uses, logged as the Slack user's member. A refused report keeps the modal open with the reason
under the input it is about.
"""

from sqlmodel import Session

from notifications.ids import InputId
from notifications.inbound.members import actor_for, member_for
from notifications.inbound.modals import feedback_modal, notice_view
from notifications.inbound.replies import PendingView, Reply
from notifications.inbound.requests import FeedbackOpen, FeedbackSubmission
from notifications.mrkdwn import escape_mrkdwn as esc
from orchestrator.beta.feedback import submit_feedback
from orchestrator.core.enums import FeedbackType, Phase
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.models import RegionRollout
from orchestrator.launches.queries import launch_id_for

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


def handle_open(session: Session, request: FeedbackOpen) -> Reply:
    """Open the feedback modal, pre-filled with the message the shortcut was used on."""
    member_for(session, request.user_id)  # an unknown user is told before typing anything
    modal = feedback_modal(launch=request.launch, text=request.text, link=request.link)
    return Reply(view=PendingView(trigger_id=request.trigger_id, view=modal))


def handle_submission(session: Session, submission: FeedbackSubmission) -> Reply:
    """Log the report; a severity 1 during a ramp halts the region, and the notice says so."""
    member = member_for(session, submission.user_id)
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
        actor=actor_for(member),
    )
    halted = session.get(RegionRollout, feedback.rollout_id)
    note = ""
    if halted is not None and halted.halt_reason and f"#{feedback.id} " in halted.halt_reason:
        note = (
            f"\n:octagonal_sign: Severity 1 during a ramp: *{esc(submission.region)}* was halted and the owner alerted."
        )
    logged = f"Logged as report #{feedback.id} for `{esc(submission.launch)}` {esc(submission.region)}.{note}"
    return Reply(notice=notice_view("Beta feedback logged", logged))


def submission_input(error: Exception) -> InputId:
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
