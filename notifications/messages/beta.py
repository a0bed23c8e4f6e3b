"""Beta program messages: the guardrail's halt alert and the weekly feedback digest.

Pure functions from snapshots to messages, built with the shared validated layout (so Slack's
limits fail here, in tests) and split into several messages when long: every launch's list is
shown whole, never cut.
"""

from notifications.messages.layout import (
    SECTION_TEXT_MAX,
    Blocks,
    Message,
    context_block,
    header_block,
    pack,
    paginate,
    section_block,
)
from notifications.messages.snapshots import GuardrailAlert
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import link, phase_label, shorten
from orchestrator.beta.digest import BetaDigest, BetaLaunchDigest
from orchestrator.beta.scoring import RankedFeedback

_SEVERITY_ICONS = {1: ":red_circle:", 2: ":large_orange_circle:", 3: ":large_yellow_circle:", 4: ":white_circle:"}


def guardrail_alert(alert: GuardrailAlert) -> Message:
    """The region stopped itself: say where, at what exposure, and what the account reported."""
    title = f":octagonal_sign: {alert.launch} halted in {alert.region}: severity-1 beta feedback"
    report = f"*#{alert.feedback_id}* from *{esc(alert.account)}*: {esc(shorten(alert.text, 1500))}"
    if alert.link:
        report += f"\n{link(alert.link, 'Open the report')}"
    details = (
        f"Ramp stopped at {alert.percent}% of {phase_label(alert.phase)}. Owner: {esc(alert.owner)}. "
        f"Resolve or downgrade the report, then resume: `launchdeck`, the API or the dashboard."
    )
    blocks = [
        header_block(title),
        section_block(report, block_id=f"guardrail:{alert.feedback_id}"),
        context_block(details),
    ]
    return Message(text=f"{alert.launch} halted in {alert.region}: severity-1 beta feedback", blocks=blocks)


def _line(row: RankedFeedback) -> str:
    icon = _SEVERITY_ICONS.get(row.severity, ":white_circle:")
    reach = f"{row.reports} report(s), {row.accounts} account(s)"
    text = esc(shorten(row.text, 200))
    return (
        f"{row.rank}. {icon} *{row.score:g}* · {esc(row.region)} {row.type.value} · {reach} · #{row.feedback_id} {text}"
    )


def _launch_blocks(launch: BetaLaunchDigest) -> Blocks:
    summary = f"*{esc(launch.name)}* (`{launch.slug}`) · {launch.open_reports} open"
    if launch.open_severity_1:
        summary += f" · :red_circle: {launch.open_severity_1} severity 1"
    blocks = [section_block(summary, block_id=f"beta:{launch.slug}")]
    for number, text in enumerate(pack([_line(row) for row in launch.top], SECTION_TEXT_MAX), start=1):
        blocks.append(section_block(text, block_id=f"beta:{launch.slug}:top:{number}"))
    return blocks


def beta_digest(digest: BetaDigest) -> list[Message]:
    """Each launch's top reports (severity x frequency x reach), most severity-1 launches first."""
    groups = [_launch_blocks(launch) for launch in digest.launches]
    chunks = paginate(groups, reserved_blocks=2) if groups else [[]]
    messages = []
    for index, chunk in enumerate(chunks, start=1):
        part = f" ({index}/{len(chunks)})" if len(chunks) > 1 else ""
        blocks = [
            header_block(f"Beta feedback, week {digest.week}{part}"),
            context_block(
                f"{len(digest.launches)} launch(es) with open feedback · ranked by severity x frequency x reach",
                block_id=f"beta-digest:part:{index}",
            ),
        ]
        body = [block for group in chunk for block in group] or [section_block("_No open beta feedback._")]
        blocks.extend(body)
        messages.append(Message(text=f"Beta feedback, week {digest.week}{part}", blocks=blocks))
    return messages
