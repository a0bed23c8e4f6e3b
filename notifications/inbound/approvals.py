"""Approvers vote from Slack: the Go button casts a Go at once; Conditional Go and No-Go open a
modal that asks for what the vote needs, and its submission casts it. Every vote goes through
``gates.approvals.cast_vote`` as the Slack user's own member, so the same policy decides as for
the API (only the gate's named approvers, never the launch's owner, never a name typed in).
Refusals (not an approver, the gate already passed) come back as ephemeral sentences.
"""

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from notifications.ids import GateRef, InputId
from notifications.inbound.members import actor_for, member_for
from notifications.inbound.modals import notice_view
from notifications.inbound.replies import PendingView, Reply
from notifications.inbound.requests import VoteClick, VoteSubmission
from notifications.inbound.vote_modals import vote_modal
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import phase_label
from orchestrator.core.clock import plain_day, zone
from orchestrator.core.enums import GateStatus, Vote
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.models import Gate, Launch, Region, RegionRollout
from orchestrator.gates.approvals import cast_vote, check_may_vote
from orchestrator.gates.quorum import tally

_VOTE_WORDS = {Vote.GO: "Go", Vote.CONDITIONAL_GO: "Conditional Go", Vote.NO_GO: "No-Go"}
_FIELD_INPUTS = {
    "conditions": InputId.VOTE_CONDITIONS,
    "risk_accepted_by": InputId.VOTE_RISK_OWNER,
    "reevaluate_at": InputId.VOTE_REEVALUATE,
}


def handle_click(session: Session, click: VoteClick) -> Reply:
    """Go is cast at once; Conditional Go and No-Go open their modal if the person may vote."""
    actor = actor_for(member_for(session, click.user_id))
    gate_id = click.gate.gate_id
    if click.vote is Vote.GO:
        cast_vote(session=session, gate_id=gate_id, vote=Vote.GO, actor=actor)
        return Reply(text=recorded_text(session, gate_id=gate_id, vote=Vote.GO), response_url=click.response_url)
    check_may_vote(session=session, gate_id=gate_id, actor=actor)
    if not click.trigger_id:
        return Reply(text="Slack sent no trigger for a form; click the button again.", response_url=click.response_url)
    title, timezone = _gate_context(session, gate_id)
    in_a_week = datetime.now(zone(timezone)).date() + timedelta(days=7)
    modal = vote_modal(click.vote, ref=GateRef(gate_id=gate_id), title=title, suggested_date=in_a_week)
    return Reply(view=PendingView(trigger_id=click.trigger_id, view=modal))


def handle_submission(session: Session, submission: VoteSubmission) -> Reply:
    """Cast the Conditional Go or No-Go the modal asked for."""
    actor = actor_for(member_for(session, submission.user_id))
    gate_id = submission.gate.gate_id
    if submission.vote is Vote.CONDITIONAL_GO:
        if not submission.risk_user_id:
            raise InvalidInput("risk_accepted_by", "pick who accepts the risk")
        risk_owner = member_for(session, submission.risk_user_id).email
        cast_vote(
            session=session,
            gate_id=gate_id,
            vote=Vote.CONDITIONAL_GO,
            actor=actor,
            conditions=submission.text,
            risk_accepted_by=risk_owner,
        )
    else:
        cast_vote(
            session=session,
            gate_id=gate_id,
            vote=Vote.NO_GO,
            actor=actor,
            comment=submission.text or None,
            reevaluate_at=_reevaluation(submission.reevaluate_on),
        )
    return Reply(notice=notice_view("Vote recorded", recorded_text(session, gate_id=gate_id, vote=submission.vote)))


def submission_input(submission: VoteSubmission, error: Exception) -> InputId:
    """The modal input a refused submission's error is shown under."""
    field = getattr(error, "field", None)
    if isinstance(field, str) and field in _FIELD_INPUTS:
        return _FIELD_INPUTS[field]
    return InputId.VOTE_CONDITIONS if submission.vote is Vote.CONDITIONAL_GO else InputId.VOTE_REASON


def recorded_text(session: Session, *, gate_id: int, vote: Vote) -> str:
    """What the voter is told: their vote, and where the gate stands now."""
    title, _timezone = _gate_context(session, gate_id)
    gate = session.get(Gate, gate_id, populate_existing=True)
    assert gate is not None
    count = tally(session, gate, now=datetime.now(zone("UTC")))
    standing = (
        "The gate has passed."
        if gate.status == GateStatus.PASSED
        else f"Go so far: {len(count.gos)} of {count.needed} needed"
        + (f"; No-Go: {', '.join(count.no_gos)}" if count.no_gos else "")
        + (f"; not voted yet: {', '.join(count.missing)}" if count.missing else "")
        + "."
    )
    return f"Your {_VOTE_WORDS[vote]} on *{title}* is recorded. {esc(standing)}"


def _gate_context(session: Session, gate_id: int) -> tuple[str, str]:
    """The gate named for a person ("Acme Assistant, EU, GA"), and its region's time zone."""
    row = session.exec(
        select(Launch.name, Region.code, Region.timezone, Gate.phase)
        .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(Gate.id == gate_id)
    ).first()
    if row is None:
        raise NotFound("gate", gate_id)
    name, code, timezone, phase = row
    return f"{esc(name)}, {code}, {phase_label(phase)}", timezone


def _reevaluation(picked: str | None) -> date:
    """The picked day; the vote service reads it as the start of that day in the gate's region,
    as a plain date means in every door (``clock.region_moment``)."""
    if not picked:
        raise InvalidInput("reevaluate_at", "pick the date the region will be looked at again")
    try:
        day = plain_day(picked)
    except InvalidInput:
        day = None
    if day is None:
        raise InvalidInput("reevaluate_at", f"{picked!r} is not a date")
    return day
