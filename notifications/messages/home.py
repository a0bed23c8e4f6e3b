"""A person's launchdeck App Home (the Home tab of the app in Slack): the votes waiting for them,
with the Go / Conditional Go / No-Go buttons of the approval message; their team's open items
(and the ones assigned to them), soonest due, each with the Done button of the gate message; and
for product ops the launches they own, each region's state and next gate.

The buttons are the messages' own (``approvals.vote_buttons``, ``items.done_button``): same
action ids and values, so a click on the Home takes the one interaction path a click on a message
takes. Each list shows at most the snapshot's rows and says how many more there are, with the
dashboard's address when launchdeck knows it. A Home holds at most 100 blocks: past that it is
cut, and says so. Pure: the snapshot (``orchestrator.reporting.home``) says everything it shows.
"""

from typing import Any

from slack_sdk.models.blocks import DividerBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from notifications.messages.approvals import vote_buttons
from notifications.messages.items import done_button
from notifications.messages.layout import Blocks, block_dict, context_block, header_block, section_block
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import fit_mrkdwn, link, mention, phase_label, shorten
from orchestrator.core.clock import zone
from orchestrator.reporting.home import HomeItem, HomeSnapshot, OwnedLaunch, PendingVote, RegionLine

MAX_HOME_BLOCKS = 100  # Slack's limit for a Home tab view
TITLE_MAX = 150
_CUT = "_This Home is cut at Slack's {limit} blocks; the dashboard has everything._"


def home_view(home: HomeSnapshot, *, dashboard: str | None = None) -> dict[str, Any]:
    """The ``views.publish`` view for one person, checked by slack_sdk's models."""
    blocks = _known(home, dashboard) if home.member_name is not None else _unknown(home)
    if len(blocks) > MAX_HOME_BLOCKS:
        blocks = [*blocks[: MAX_HOME_BLOCKS - 1], context_block(_CUT.format(limit=MAX_HOME_BLOCKS))]
    return View(type="home", blocks=blocks).to_dict()


def _known(home: HomeSnapshot, dashboard: str | None) -> Blocks:
    who = esc(home.member_name) + (f" · {esc(home.team_name)}" if home.team_name else "")
    blocks = [header_block("launchdeck"), context_block(f"Your launches, votes and items, {who}.")]
    blocks += _section("Waiting for your vote", home.pending_total, [_pending(vote) for vote in home.pending])
    if not home.pending_total:
        blocks.append(section_block("Nothing waits for your vote."))
    blocks += _more(home.pending_total, len(home.pending), dashboard)
    heading = f"Open items of {esc(home.team_name)} and yours" if home.team_name else "Open items assigned to you"
    blocks += _section(heading, home.items_total, [[_item(item)] for item in home.items])
    if not home.items_total:
        blocks.append(section_block(":tada: Nothing open for you or your team."))
    blocks += _more(home.items_total, len(home.items), dashboard)
    if home.launches is not None:
        blocks += _section("Launches you own", home.launches_total, [[_launch(launch)] for launch in home.launches])
        if not home.launches_total:
            blocks.append(section_block("You own no draft or active launch."))
        blocks += _more(home.launches_total, len(home.launches), dashboard)
    if dashboard:
        blocks.append(context_block(link(dashboard, "Open the launchdeck dashboard")))
    return blocks


def _section(title: str, total: int, rows: list[Blocks]) -> Blocks:
    heading = section_block(f"*{title}* ({total})")
    return [block_dict(DividerBlock()), heading] + [block for row in rows for block in row]


def _more(total: int, shown: int, dashboard: str | None) -> Blocks:
    if total <= shown:
        return []
    where = f": {link(dashboard, 'see them all on the dashboard')}" if dashboard else ""
    return [context_block(f"… and {total - shown} more{where}")]


def _pending(vote: PendingVote) -> Blocks:
    # The phase date as the region's local day, as it was typed (a plain date is that day's start there).
    when = f" on {vote.phase_at.astimezone(zone(vote.timezone)):%Y-%m-%d}" if vote.phase_at else ""
    text = (
        f"*{esc(shorten(vote.launch_name, TITLE_MAX))}* (`{vote.launch_slug}`): "
        f"*{esc(vote.region_code)}* enters *{phase_label(vote.phase)}*{when}. Your vote is asked."
    )
    return [section_block(text, block_id=f"home:gate:{vote.gate_id}"), vote_buttons(vote.gate_id)]


def _item(item: HomeItem) -> dict[str, Any]:
    parts = [f"`{item.launch_slug}` {esc(item.region_code)} {phase_label(item.phase)}"]
    parts.append(f"*{esc(shorten(item.title, TITLE_MAX))}*")
    details = [item.status.value.replace("_", " ")]
    if item.due_at is not None:
        details.append(f"due {item.due_at:%Y-%m-%d}")
    if item.blocking:
        details.append("blocking")
    if item.assigned_to_me:
        details.append("assigned to you")
    text = fit_mrkdwn(f"{': '.join(parts)}\n{' · '.join(details)}", 3000)
    section = SectionBlock(
        block_id=f"home:item:{item.id}:v{item.version}",
        text=MarkdownTextObject(text=text),
        accessory=done_button(item_id=item.id, version=item.version, title=item.title),
    )
    return block_dict(section)


def _launch(launch: OwnedLaunch) -> dict[str, Any]:
    lines = [f"*{esc(shorten(launch.name, TITLE_MAX))}* (`{launch.slug}`) · {launch.status.value}"]
    lines += [_region(region) for region in launch.regions] or ["_No regions planned yet._"]
    return section_block("\n".join(lines), block_id=f"home:launch:{launch.slug}")


def _region(region: RegionLine) -> str:
    state = region.state.value.replace("_", " ")
    phase = f" ({phase_label(region.phase)}" + (f", {region.percent}%" if region.percent else "") + ")"
    line = f"• *{esc(region.code)}*: {state}{phase if region.phase else ''}"
    if region.next_gate is not None:
        gate_phase, kind, status = region.next_gate
        line += f" · next gate: {phase_label(gate_phase)} {kind.value.replace('_', ' ')} ({status.value})"
    return line


def _unknown(home: HomeSnapshot) -> Blocks:
    ask = ", ".join(mention(slack_id) if slack_id else esc(name) for name, slack_id in home.contacts)
    whom = f"product ops ({ask})" if ask else "product ops"
    return [
        header_block("launchdeck"),
        section_block(
            f":wave: You are not in launchdeck's directory yet, so there is nothing of yours to show. "
            f"Ask {whom} to add your Slack user id `{esc(home.slack_user_id)}` to your member record; "
            "your votes and your team's items show here from then on."
        ),
    ]
