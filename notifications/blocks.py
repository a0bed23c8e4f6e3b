"""Block Kit builders: pure functions from notification snapshots to Slack messages.

Every block is built with ``slack_sdk.models.blocks`` and turned into a dict with ``to_dict()``,
which runs slack_sdk's validators (section text ≤ 3000, header ≤ 150, button text ≤ 75, value ≤
2000, overflow 1 to 5 options…), so a message that breaks a limit fails here, in tests, instead of
as ``invalid_blocks`` from Slack. What slack_sdk does not check (50 blocks per message) is
enforced by splitting: a long checklist becomes several messages that together list every item
exactly once. Lists are split, never cut; only over-long free text (a 10,000-character title)
is shortened, and the item stays.

Each checklist item is always exactly two blocks (its section, then its buttons or its
who/when line) with block ids derived from the item id and version, so ``splice_item`` can
replace one item's line in a posted message when it is checked off (``chat.update``), and a
re-render of the same items splits into the same parts.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)

from notifications.ids import ActionId, ItemChoice, ItemChoiceRef, ItemRef
from notifications.render import ELLIPSIS, escape_mrkdwn, fit_mrkdwn, phase_label, render, shorten
from notifications.snapshots import (
    DigestMessage,
    GateOpenedMessage,
    ItemCheckedMessage,
    ItemLine,
    OverdueReminderMessage,
    RegionEventKind,
    RegionEventMessage,
)
from orchestrator.core.enums import ItemStatus
from orchestrator.reporting.digest import LaunchDigest
from orchestrator.reporting.rag import Rag

# Slack's limits (research/slack.md §3.1).
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
CONTEXT_TEXT_MAX = 3000
# Not a documented per-message limit, but Slack refuses messages whose text is very large
# (bolt-js #2509: msg_blocks_too_long near 13k characters), so parts are also split by text size.
MAX_MESSAGE_TEXT = 12_000
FAILURE_MARKER = ":rotating_light:"
SUCCESS_MARKER = ":white_check_mark:"

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class Message:
    """One chat.postMessage: ``text`` is the notification/accessibility fallback (never empty)."""

    text: str
    blocks: Blocks


_STATUS_ICONS = {
    ItemStatus.TODO: ":white_large_square:",
    ItemStatus.IN_PROGRESS: ":hourglass_flowing_sand:",
    ItemStatus.BLOCKED: ":no_entry:",
    ItemStatus.DONE: ":white_check_mark:",
    ItemStatus.WAIVED: ":fast_forward:",
    ItemStatus.NOT_APPLICABLE: ":heavy_minus_sign:",
}
_STATUS_LABELS = {
    ItemStatus.TODO: "To do",
    ItemStatus.IN_PROGRESS: "In progress",
    ItemStatus.BLOCKED: "Blocked",
    ItemStatus.DONE: "Done",
    ItemStatus.WAIVED: "Waived",
    ItemStatus.NOT_APPLICABLE: "Not applicable",
}
_CHOICE_LABELS = {
    ItemChoice.BLOCK: "Mark blocked…",
    ItemChoice.WAIVE: "Request waiver…",
    ItemChoice.EVIDENCE: "Add evidence…",
}
_EVENT_TITLES = {
    RegionEventKind.GATE_PASSED: "Gate passed",
    RegionEventKind.REGION_ADVANCED: "Region advanced",
    RegionEventKind.RESUMED: "Rollout resumed",
    RegionEventKind.LIVE: "Live",
    RegionEventKind.HALTED: "HALTED",
    RegionEventKind.ROLLED_BACK: "ROLLED BACK",
    RegionEventKind.NO_GO: "NO-GO",
}
_RAG_ICONS = {Rag.RED: ":red_circle:", Rag.AMBER: ":large_orange_circle:", Rag.GREEN: ":large_green_circle:"}


# --- gate opened -------------------------------------------------------------------------


def gate_opened(msg: GateOpenedMessage) -> list[Message]:
    """A team's items for one region and phase: a header, a context line (launch, region, gate
    date, counts, part n of m) and two blocks per item. Split into as many messages as the
    50-block and text-size limits need; the items keep their order and each appears once."""
    team = msg.team_name or msg.team_key
    groups = [item_blocks(item, timezone=msg.timezone) for item in msg.items]
    chunks = _paginate(groups, reserved_blocks=3 if msg.exit_criteria else 2) if groups else [[]]
    blocking = sum(1 for item in msg.items if item.blocking)
    messages: list[Message] = []
    first = 1
    for index, chunk in enumerate(chunks, start=1):
        count = len(chunk)
        context = {
            "team": team,
            "launch_name": msg.launch_name,
            "launch_slug": msg.launch_slug,
            "region_code": msg.region_code,
            "region_name": msg.region_name,
            "phase": msg.phase,
            "gate_at": msg.gate_at,
            "timezone": msg.timezone,
            "total": len(msg.items),
            "blocking": blocking,
            "part": index,
            "parts": len(chunks),
            "first": first,
            "last": first + count - 1,
        }
        head = [
            _header(render("gate_opened_header", **context)),
            _context(render("gate_opened_context", **context), block_id=f"gate:part:{index}"),
        ]
        if msg.exit_criteria and index == 1:
            criteria = " · ".join(escape_mrkdwn(label) for label in msg.exit_criteria)
            head.append(_context(f":test_tube: Beta exit criteria: {criteria}", block_id="gate:beta-exit"))
        body = [block for group in chunk for block in group]
        if not msg.items:
            body = [_section("_No items for this team in this phase._")]
        messages.append(Message(text=render("gate_opened_text", **context), blocks=head + body))
        first += count
    return messages


def item_blocks(item: ItemLine, *, timezone: str = "UTC") -> Blocks:
    """An item's two blocks: its section, then either its buttons (open items) or who closed it
    and when (done, waived, n/a). Always two, so splitting and splicing stay stable."""
    label = _STATUS_LABELS[item.status]
    text = render("item_line", item=item, icon=_STATUS_ICONS[item.status], status_label=label, timezone=timezone)
    section = _section(text, block_id=_item_block_id(item))
    if item.closed:
        status = render(
            "item_status", item=item, status_label=f"{_STATUS_ICONS[item.status]} {label}", timezone=timezone
        )
        return [section, _context(status, block_id=f"{_item_block_id(item)}:status")]
    return [section, _item_actions(item)]


def _item_actions(item: ItemLine) -> dict[str, Any]:
    ref = ItemRef(item_id=item.id, version=item.version)
    done = ButtonElement(
        text=PlainTextObject(text="Done", emoji=True),
        action_id=ActionId.ITEM_DONE.value,
        value=ref.to_value(),
        style="primary",
        accessibility_label=shorten(f"Mark done: {item.title}", BUTTON_TEXT_MAX),
    )
    overflow = OverflowMenuElement(
        action_id=ActionId.ITEM_OVERFLOW.value,
        options=[
            Option(
                value=ItemChoiceRef(item_id=item.id, version=item.version, choice=choice).to_value(),
                text=PlainTextObject(text=label, emoji=True),
            )
            for choice, label in _CHOICE_LABELS.items()
        ],
    )
    return _dict(ActionsBlock(block_id=f"{_item_block_id(item)}:actions", elements=[done, overflow]))


def _item_block_id(item: ItemLine) -> str:
    """New id per version (Slack asks for a fresh block_id when a message is updated)."""
    return f"item:{item.id}:v{item.version}"


# --- item checked ------------------------------------------------------------------------


def item_checked(msg: ItemCheckedMessage) -> Message:
    """The item's re-rendered line (section plus who/when, or buttons if it was reopened) and
    a fallback text naming who did what; splice it into the posted message with ``splice_item``."""
    label = _STATUS_LABELS[msg.item.status]
    text = render(
        "item_checked_text",
        actor=msg.actor,
        item=msg.item,
        status_label=label,
        launch_name=msg.launch_name,
        region_code=msg.region_code,
        phase=msg.phase,
    )
    return Message(text=text, blocks=item_blocks(msg.item, timezone=msg.timezone))


def splice_item(blocks: Sequence[dict[str, Any]], item_id: int, replacement: Sequence[dict[str, Any]]) -> Blocks:
    """``blocks`` with the item's line (any version) replaced by ``replacement``, for
    ``chat.update`` of the message that listed it. Unchanged if the item is not in ``blocks``,
    so a stale or foreign message is never given a stray line."""
    prefix = f"item:{item_id}:"
    out: Blocks = []
    placed = False
    for block in blocks:
        if str(block.get("block_id", "")).startswith(prefix):
            if not placed:
                out.extend(replacement)
                placed = True
            continue
        out.append(block)
    return out


# --- overdue reminder --------------------------------------------------------------------


def overdue_reminder(msg: OverdueReminderMessage) -> Message:
    """A nudge for one late item with its buttons, so it can be closed from the DM itself.
    An escalation (to the team channel) is marked as such."""
    late = _late_by(msg.item.due_at, msg.now)
    context = {
        "item": msg.item,
        "late": late,
        "escalated": msg.escalated,
        "team": msg.team_key,
        "launch_name": msg.launch_name,
        "region_name": msg.region_name,
        "region_code": msg.region_code,
        "phase": msg.phase,
        "timezone": msg.timezone,
    }
    blocks = [_section(render("overdue_reminder", **context), block_id=f"reminder:{msg.item.id}")]
    if not msg.item.closed:
        blocks.append(_item_actions(msg.item))
    return Message(text=render("overdue_reminder_text", **context), blocks=blocks)


def _late_by(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return "an unknown time"
    late = max(now - due_at, timedelta(0))
    if late >= timedelta(days=1):
        days = late.days
        return f"{days} day{'s' if days != 1 else ''}"
    hours = max(int(late / timedelta(hours=1)), 1)
    return f"{hours} hour{'s' if hours != 1 else ''}"


# --- region events -----------------------------------------------------------------------


def region_event(msg: RegionEventMessage) -> Message:
    """Gate passed, advanced, resumed or live; or halted, rolled back, No-Go. Failures get the
    same shape as successes but a warning header, the title in capitals and the reason (or an
    explicit "none given"), so a stopped rollout is never quieter than a green one."""
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
    }
    blocks = [
        _header(render("region_event_header", **context)),
        _section(render("region_event_section", **context), block_id=f"event:{msg.kind.value}"),
        _context(render("region_event_context", **context)),
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
    }.get(msg.kind, "")


# --- leadership digest -------------------------------------------------------------------


def leadership_digest(msg: DigestMessage) -> list[Message]:
    """Every active launch, red first, with its RAG, the reason and one line per region.
    Split into several messages when long; a launch's blocks stay together when they fit."""
    digest = msg.digest
    groups = [_launch_blocks(launch) for launch in digest.launches]
    chunks = _paginate(groups, reserved_blocks=3) if groups else [[]]
    counts = {rag.value: digest.count(rag) for rag in Rag}
    messages = []
    for index, chunk in enumerate(chunks, start=1):
        context = {
            **counts,
            "total": len(digest.launches),
            "date": digest.generated_at.date().isoformat(),
            "generated_at": digest.generated_at,
            "part": index,
            "parts": len(chunks),
        }
        blocks = [
            _header(render("digest_header", **context)),
            _context(render("digest_context", **context), block_id=f"digest:part:{index}"),
        ]
        body = [block for group in chunk for block in group]
        if not digest.launches:
            body = [_section("_No active launches._")]
        blocks.extend(body)
        if msg.dashboard_url and index == len(chunks):
            blocks.append(
                _dict(
                    ActionsBlock(
                        block_id="digest:links",
                        elements=[
                            ButtonElement(
                                text=PlainTextObject(text="Open the dashboard", emoji=True),
                                action_id=ActionId.OPEN_DASHBOARD.value,
                                url=msg.dashboard_url,
                            )
                        ],
                    )
                )
            )
        messages.append(Message(text=render("digest_text", **context), blocks=blocks))
    return messages


def _launch_blocks(launch: LaunchDigest) -> Blocks:
    blocks = [
        _dict(DividerBlock()),
        _section(render("digest_launch", launch=launch, icon=_RAG_ICONS[launch.rag]), block_id=f"launch:{launch.id}"),
    ]
    lines = [render("digest_region", region=region) for region in launch.regions]
    for number, text in enumerate(_pack(lines, SECTION_TEXT_MAX), start=1):
        blocks.append(_section(text, block_id=f"launch:{launch.id}:regions:{number}"))
    return blocks


def _pack(lines: Sequence[str], limit: int) -> list[str]:
    """Join lines into as few texts of at most ``limit`` characters as possible (no line dropped)."""
    texts: list[str] = []
    current = ""
    for line in lines:
        line = fit_mrkdwn(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            texts.append(current)
            candidate = line
        current = candidate
    if current:
        texts.append(current)
    return texts


# --- shared ------------------------------------------------------------------------------


def _paginate(
    groups: Sequence[Blocks],
    *,
    reserved_blocks: int,
    max_blocks: int = MAX_BLOCKS,
    max_text: int = MAX_MESSAGE_TEXT,
) -> list[list[Blocks]]:
    """Pack groups of blocks (an item's two blocks, a launch's blocks) into parts of at most
    ``max_blocks`` minus the header blocks, and about ``max_text`` characters of text. A group
    never straddles two parts unless it alone is too big, in which case it is split by block."""
    room = max_blocks - reserved_blocks
    parts: list[list[Blocks]] = []
    current: list[Blocks] = []
    used_blocks = used_text = 0
    for group in groups:
        pieces = [group] if len(group) <= room else [group[i : i + room] for i in range(0, len(group), room)]
        for piece in pieces:
            size = sum(_text_size(block) for block in piece)
            if current and (used_blocks + len(piece) > room or used_text + size > max_text):
                parts.append(current)
                current, used_blocks, used_text = [], 0, 0
            current.append(piece)
            used_blocks += len(piece)
            used_text += size
    if current:
        parts.append(current)
    return parts


def _text_size(block: dict[str, Any]) -> int:
    text = block.get("text")
    size = len(text.get("text", "")) if isinstance(text, dict) else 0
    for element in block.get("elements", []):
        if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
            size += len(element.get("text", ""))
    return size


def _dict(block: Block) -> dict[str, Any]:
    """Validate with slack_sdk (raises SlackObjectFormationError on a broken limit)."""
    return block.to_dict()


def _section(text: str, *, block_id: str | None = None) -> dict[str, Any]:
    return _dict(SectionBlock(block_id=block_id, text=MarkdownTextObject(text=fit_mrkdwn(text, SECTION_TEXT_MAX))))


def _context(text: str, *, block_id: str | None = None) -> dict[str, Any]:
    return _dict(
        ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=fit_mrkdwn(text, CONTEXT_TEXT_MAX))])
    )


def _header(text: str) -> dict[str, Any]:
    plain = " ".join(text.split())
    if len(plain) > HEADER_TEXT_MAX:
        plain = plain[: HEADER_TEXT_MAX - 1].rstrip() + ELLIPSIS
    return _dict(HeaderBlock(text=PlainTextObject(text=plain, emoji=True)))
