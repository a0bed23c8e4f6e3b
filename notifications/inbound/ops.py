"""Prod ops in Slack: ``/launch kickoff <slug>`` and ``/launch halt|resume|rollback <slug> <region>``
open a confirmation modal; its submission calls the service as the Slack user's own member.

The door refuses early, before any modal opens, in plain words: an unknown person, someone who is
not product ops or an admin, an unknown launch or region, a state the action does not apply to
(the service's own sentence, from the same checks: ``check_kickoff``, ``check_brake``). The
service checks everything again when the modal is submitted, with the member's role as it is
then; that check is the one that counts, and a refusal writes nothing and keeps the modal open.
Once done, the modal closes and the person is told through the command's ``response_url``; the
region's channel hears of a halt, resume or rollback through the outbox, as from any door.
"""

import re

from sqlmodel import Session, col, select

from notifications.ids import InputId, OpsAction, OpsRef
from notifications.inbound.members import Refused, actor_for, member_for
from notifications.inbound.modals import notice_view
from notifications.inbound.ops_modals import OpsPreview, ops_modal
from notifications.inbound.replies import PendingView, Reply
from notifications.inbound.requests import CommandKind, OpsSubmission, SlashCommand
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import phase_label
from orchestrator.core.enums import LaunchStatus, Role
from orchestrator.core.errors import Forbidden, InvalidInput, NotFound
from orchestrator.core.models import Launch, Member, RegionRollout
from orchestrator.core.policy import LAUNCH_OPERATORS, require_role
from orchestrator.launches.queries import LaunchDetail, RolloutView, launch_detail, launch_id_for, rollout_id_for
from orchestrator.launches.service import check_kickoff, kick_off_launch
from orchestrator.launches.spec import SLUG_PATTERN
from orchestrator.rollouts.brakes import REASON_LIMITS, check_brake
from orchestrator.rollouts.rules import RolloutAction
from orchestrator.rollouts.service import halt_region, resume_region, roll_back_region

ACTIONS = {
    CommandKind.KICKOFF: OpsAction.KICKOFF,
    CommandKind.HALT: OpsAction.HALT,
    CommandKind.RESUME: OpsAction.RESUME,
    CommandKind.ROLLBACK: OpsAction.ROLLBACK,
}
BRAKES = {
    OpsAction.HALT: RolloutAction.HALT,
    OpsAction.RESUME: RolloutAction.RESUME,
    OpsAction.ROLLBACK: RolloutAction.ROLL_BACK,
}
DOING = {
    OpsAction.KICKOFF: "kick off a launch",
    OpsAction.HALT: "halt a region",
    OpsAction.RESUME: "resume a region",
    OpsAction.ROLLBACK: "roll back a region",
}
USAGE = {
    action: f"{action.value} <launch-slug>" + ("" if action is OpsAction.KICKOFF else " <region>")
    for action in OpsAction
}
_DONE = {
    OpsAction.KICKOFF: (
        "Launch kicked off",
        ":rocket: You kicked off *{name}*: its regions opened their first phase's gates.",
    ),
    OpsAction.HALT: (
        "Region halted",
        ":octagonal_sign: You halted *{name}* in *{region}*. Nothing moves there until it is resumed.",
    ),
    OpsAction.RESUME: ("Region resumed", ":arrow_forward: You resumed *{name}* in *{region}*: it is {state} now."),
    OpsAction.ROLLBACK: ("Region rolled back", ":rewind: You rolled back *{name}* in *{region}*: exposure is 0%."),
}
_EFFECT = {
    OpsAction.KICKOFF: "Every region opens the gates of its first phase; gates that hold pass on their own, "
    "and each region's channel is told.",
    OpsAction.HALT: "Nothing moves in this region until someone resumes it. Its channel is told, with your reason.",
    OpsAction.RESUME: "The region picks up again (a halted one where it stopped, a rolled-back one from its first "
    "exposure step). Its channel is told, with your reason.",
    OpsAction.ROLLBACK: "Exposure goes to 0% now and the rollout target is told; resuming later ramps again from "
    "the first step. The region's channel is told, with your reason.",
}


def handle_open(session: Session, command: SlashCommand) -> Reply:
    """Open the confirmation, or say in plain words why not (nothing is written either way)."""
    action = ACTIONS[command.kind]
    _require_operator(session, member_for(session, command.user_id), action)
    if not command.argument:
        return Reply(text=f":warning: Say which launch: `{command.command} {USAGE[action]}`.")
    if not re.fullmatch(SLUG_PATTERN, command.argument):
        raise NotFound("launch", command.argument)
    detail = launch_detail(session=session, slug=command.argument)
    ref = OpsRef(action=action, slug=detail.launch.slug, response_url=_response_url(command))
    if action is OpsAction.KICKOFF:
        if detail.launch.status == LaunchStatus.ACTIVE:
            return Reply(text=f":information_source: *{esc(detail.launch.name)}* is already kicked off; nothing to do.")
        check_kickoff(session, launch=detail.launch)
        preview = OpsPreview(ref, detail.launch.name, _kickoff_summary(detail), _EFFECT[action])
    else:
        view = _region(detail, command, action)
        if isinstance(view, str):
            return Reply(text=view)
        rollout = session.get(RegionRollout, view.id)
        assert rollout is not None
        check_brake(session, rollout=rollout, action=BRAKES[action])
        ref = ref.model_copy(update={"region": view.region})
        summary = _region_summary(view)
        preview = OpsPreview(ref, detail.launch.name, summary, _EFFECT[action], REASON_LIMITS[BRAKES[action]])
    if not command.trigger_id:
        return Reply(text=":warning: Slack sent no trigger_id, so the confirmation cannot open; try again.")
    return Reply(view=PendingView(trigger_id=command.trigger_id, view=ops_modal(preview)))


def handle_submission(session: Session, submission: OpsSubmission) -> Reply:
    """Carry out the confirmed action as the member the Slack user is now (their role read again:
    the service decides); the modal closes and the person is told."""
    actor = actor_for(member_for(session, submission.user_id))
    ref = submission.ref
    if ref.action is OpsAction.KICKOFF:
        launch_id = launch_id_for(session=session, slug=ref.slug)
        already = session.exec(select(Launch.status).where(Launch.id == launch_id)).one() == LaunchStatus.ACTIVE
        launch = kick_off_launch(session=session, launch_id=launch_id, actor=actor)
        if already:  # kicked off by someone else since the modal opened: the service changed nothing
            return Reply(notice=notice_view("Already kicked off", f"*{esc(launch.name)}* was already kicked off."))
        name, state = launch.name, launch.status.value
    else:
        if not submission.reason.strip():  # the resume service takes none; asked here, as for halt
            raise InvalidInput("reason", "say why (it is kept in the audit ledger and shown to the teams)")
        rollout_id = rollout_id_for(session=session, slug=ref.slug, region=ref.region or "")
        if ref.action is OpsAction.HALT:
            rollout = halt_region(session=session, rollout_id=rollout_id, actor=actor, reason=submission.reason)
        elif ref.action is OpsAction.RESUME:
            rollout = resume_region(session=session, rollout_id=rollout_id, actor=actor, reason=submission.reason)
        else:
            rollout = roll_back_region(session=session, rollout_id=rollout_id, actor=actor, reason=submission.reason)
        name = session.exec(select(Launch.name).where(Launch.slug == ref.slug)).one()
        state = rollout.state.value
    heading, template = _DONE[ref.action]
    text = template.format(name=esc(name), region=esc(ref.region or ""), state=state)
    if ref.response_url:
        return Reply(text=text, response_url=ref.response_url, closes=True)
    return Reply(notice=notice_view(heading, text))


def submission_input(submission: OpsSubmission) -> InputId | None:
    """The input a refused submission's error is shown under; None for a kickoff (it has none)."""
    return None if submission.ref.action is OpsAction.KICKOFF else InputId.OPS_REASON


def help_lines(command: str) -> list[str]:
    return [
        f"• `{command} kickoff <launch-slug>`: kick off a draft launch (prod ops and admins)",
        f"• `{command} halt|resume|rollback <launch-slug> <region>`: pull a region's brakes, with a reason "
        "(prod ops and admins)",
    ]


def _require_operator(session: Session, member: Member, action: OpsAction) -> None:
    """The door's early refusal, in plain words, naming who to ask; the service checks again."""
    try:
        require_role(actor_for(member), LAUNCH_OPERATORS, doing=DOING[action])
    except Forbidden:
        ops = session.exec(
            select(Member.slack_user_id)
            .where(Member.role == Role.PRODOPS, col(Member.slack_user_id).is_not(None))
            .order_by(col(Member.id))
            .limit(3)
        ).all()
        who = f"product ops ({', '.join(f'<@{user}>' for user in ops)})" if ops else "product ops"
        raise Refused(
            f"Only prod ops and admins can {DOING[action]}; ask {who} to do it. "
            f"You are {member.role.value} in launchdeck, so nothing was changed."
        ) from None


def _region(detail: LaunchDetail, command: SlashCommand, action: OpsAction) -> RolloutView | str:
    """The region named (or the launch's only one), else the sentence saying what to name."""
    codes = ", ".join(view.region for view in detail.rollouts) or "none"
    if command.region is None:
        if len(detail.rollouts) == 1:
            return detail.rollouts[0]
        return (
            f":warning: Say which region: `{command.command} {action.value} {detail.launch.slug} <region>` "
            f"(its regions: {codes})."
        )
    found = next((view for view in detail.rollouts if view.region == command.region), None)
    if found is None:
        raise NotFound(f"region of launch {detail.launch.slug} (its regions: {codes})", command.region)
    return found


def _kickoff_summary(detail: LaunchDetail) -> str:
    lines = [f"`{detail.launch.slug}` · tier {detail.launch.tier} · owner {esc(detail.launch.owner)}"]
    for view in detail.rollouts:
        first = view.phases[0] if view.phases else None
        opens = f"opens {phase_label(first.phase)} (planned {first.current_at:%Y-%m-%d})" if first else "no phases"
        lines.append(
            f"• *{esc(view.region)}* {esc(view.region_name)}: {opens} · {view.items_open_blocking} open blocking"
        )
    return "\n".join(lines)


def _region_summary(view: RolloutView) -> str:
    phase = phase_label(view.phase) if view.phase else "not started"
    line = f"*{esc(view.region)}* {esc(view.region_name)}: {view.state.value} · {phase} · exposure {view.percent}%"
    if view.halt_reason:
        line += f"\nStopped because: {esc(view.halt_reason)}"
    return line


def _response_url(command: SlashCommand) -> str | None:
    url = command.response_url
    return url if url and url.startswith("https://hooks.slack.com/") and len(url) <= 500 else None
