"""Region events for the region's launch channel: gate passed, advanced, resumed, live; and the
failures (halted, rolled back, No-Go), which are never quieter than a green event."""

from notifications.messages.layout import Message, context_block, header_block, section_block
from notifications.messages.snapshots import RegionEventKind, RegionEventMessage
from notifications.messages.templating import render
from notifications.mrkdwn import phase_label

FAILURE_MARKER = ":rotating_light:"
SUCCESS_MARKER = ":white_check_mark:"

_EVENT_TITLES = {
    RegionEventKind.GATE_PASSED: "Gate passed",
    RegionEventKind.REGION_ADVANCED: "Region advanced",
    RegionEventKind.RESUMED: "Rollout resumed",
    RegionEventKind.LIVE: "Live",
    RegionEventKind.HALTED: "HALTED",
    RegionEventKind.ROLLED_BACK: "ROLLED BACK",
    RegionEventKind.NO_GO: "NO-GO",
    RegionEventKind.VOTES_VOIDED: "VOTES VOID",
    RegionEventKind.CONFIRMATION_NEEDED: "Confirm your Go",
}


def region_event(msg: RegionEventMessage) -> Message:
    """Gate passed, advanced, resumed or live; or halted, rolled back, No-Go. Failures get the
    same shape as successes but a warning header, the title in capitals and the reason (or an
    explicit "none given") and, for a No-Go, when the region is looked at again, so a stopped
    rollout is never quieter than a green one."""
    failure = msg.kind.is_failure
    title = _EVENT_TITLES[msg.kind]
    context = {
        "failure": failure,
        "marker": FAILURE_MARKER if failure else SUCCESS_MARKER,
        "title": title,
        "summary": _event_summary(msg),
        "launch_name": msg.launch_name,
        "launch_slug": msg.launch_slug,
        "region_name": msg.region_name,
        "region_code": msg.region_code,
        "phase": msg.phase,
        "percent": msg.percent,
        "reason": msg.reason,
        "actor": msg.actor,
        "occurred_at": msg.occurred_at,
        "timezone": msg.timezone,
        "reevaluate_at": msg.reevaluate_at,
    }
    blocks = [
        header_block(render("region_event_header", **context)),
        section_block(render("region_event_section", **context), block_id=f"event:{msg.kind.value}"),
        context_block(render("region_event_context", **context)),
    ]
    return Message(text=render("region_event_text", **context), blocks=blocks)


def _event_summary(msg: RegionEventMessage) -> str:
    phase = phase_label(msg.phase)
    return {
        RegionEventKind.GATE_PASSED: f"the {phase} gate passed.",
        RegionEventKind.REGION_ADVANCED: f"advanced to {phase}"
        + (f" at {msg.percent}%." if msg.percent is not None else "."),
        RegionEventKind.RESUMED: f"rollout resumed in {phase}.",
        RegionEventKind.LIVE: f"live in {phase}" + (f" at {msg.percent}%." if msg.percent is not None else "."),
        RegionEventKind.VOTES_VOIDED: f"the {phase} approval votes are void: what they approved changed.",
        RegionEventKind.CONFIRMATION_NEEDED: f"the {phase} gate waits only for Go votes to be confirmed.",
    }.get(msg.kind, "")
