"""The approver's direct message: what they are asked to decide (launch, region, phase, date), a
readiness summary (blocking items left, waivers with their reasons, beta exit criteria with
values), where the vote stands, and the Go / Conditional Go / No-Go buttons. Re-rendered in place
after every vote, so every approver sees the same tally; once the gate passed the buttons go.
Pure: the snapshot (``ApprovalRequestMessage``) says everything it shows.
"""

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, PlainTextObject

from notifications.ids import ActionId, GateRef
from notifications.messages.layout import Message, block_dict, context_block, header_block, section_block
from notifications.messages.snapshots import ApprovalRequestMessage
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import phase_label, shorten

LIST_MAX = 8  # lines per list before "and N more"


def approval_request(msg: ApprovalRequestMessage) -> Message:
    phase = phase_label(msg.phase)
    title = f"{msg.launch_name}: {msg.region_code} {phase}, Go / No-Go"
    when = f" on {msg.phase_at:%Y-%m-%d}" if msg.phase_at else ""
    blocks = [
        header_block(title),
        section_block(
            f"*{esc(shorten(msg.launch_name, 200))}* (`{msg.launch_slug}`) enters *{phase}* in "
            f"*{msg.region_code}*{when}. You are asked to approve it.",
            block_id=f"approval:{msg.gate_id}:ask",
        ),
        section_block(_readiness(msg), block_id=f"approval:{msg.gate_id}:readiness"),
        section_block(_standing(msg), block_id=f"approval:{msg.gate_id}:tally"),
    ]
    if not msg.passed:
        blocks.append(_buttons(msg))
    if msg.link:
        blocks.append(context_block(f"<{msg.link}|Open the launch in launchdeck>"))
    text = f"{title}: " + ("passed" if msg.passed else f"{len(msg.gos)} of {msg.needed} Go so far")
    return Message(text=text, blocks=blocks)


def _readiness(msg: ApprovalRequestMessage) -> str:
    lines = ["*Readiness*"]
    if msg.blocking_left:
        lines.append(f"Blocking items left: {len(msg.blocking_left)}")
        lines.extend(f"• {esc(shorten(title, 150))}" for title in msg.blocking_left[:LIST_MAX])
        if len(msg.blocking_left) > LIST_MAX:
            lines.append(f"… and {len(msg.blocking_left) - LIST_MAX} more")
    else:
        lines.append("Every blocking item is done, waived or not applicable.")
    if msg.waivers:
        lines.append("Waivers:")
        lines.extend(f"• {esc(shorten(waiver, 200))}" for waiver in msg.waivers[:LIST_MAX])
    lines.extend(f"• Beta exit: {esc(criterion)}" for criterion in msg.exit_criteria)
    return "\n".join(lines)


def _standing(msg: ApprovalRequestMessage) -> str:
    if msg.passed:
        return ":white_check_mark: *The gate has passed.* " + _who("Go", msg.gos)
    rule = f"{msg.needed} Go needed" + (" from distinct teams" if msg.distinct_teams else "")
    parts = [f"*Votes* ({rule}):", _who("Go", msg.gos), _who("No-Go", msg.no_gos), _who("Not voted", msg.missing)]
    return "\n".join(part for part in parts if part)


def _who(label: str, people: list[str]) -> str:
    return f"{label}: {esc(', '.join(people))}" if people else ""


def _buttons(msg: ApprovalRequestMessage) -> dict[str, object]:
    return vote_buttons(msg.gate_id)


def vote_buttons(gate_id: int) -> dict[str, object]:
    """Go / Conditional Go / No-Go on the gate: the same buttons wherever they are shown (this
    message, the App Home), so every click takes the one interaction path."""
    value = GateRef(gate_id=gate_id).to_value()
    buttons = [
        ButtonElement(text=PlainTextObject(text="Go"), action_id=ActionId.VOTE_GO.value, value=value, style="primary"),
        ButtonElement(
            text=PlainTextObject(text="Conditional Go…"), action_id=ActionId.VOTE_CONDITIONAL.value, value=value
        ),
        ButtonElement(
            text=PlainTextObject(text="No-Go…"), action_id=ActionId.VOTE_NO_GO.value, value=value, style="danger"
        ),
    ]
    return block_dict(ActionsBlock(block_id=f"approval:{gate_id}:vote", elements=buttons))
