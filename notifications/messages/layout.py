"""The Block Kit layout every message builder shares: Slack's limits, the validated block helpers
and the splitting of long lists into several messages.

Every block is built with ``slack_sdk.models.blocks`` and turned into a dict with ``to_dict()``,
which runs slack_sdk's validators (section text ≤ 3000, header ≤ 150, button text ≤ 75, value ≤
2000, overflow 1 to 5 options…), so a message that breaks a limit fails here, in tests, instead of
as ``invalid_blocks`` from Slack. What slack_sdk does not check (50 blocks per message) is
enforced by splitting: a long list becomes several messages that together show every entry
exactly once. Lists are split, never cut; only over-long free text (a 10,000-character title)
is shortened, and the entry stays.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from notifications.mrkdwn import ELLIPSIS, fit_mrkdwn

# Slack's limits (research/slack.md §3.1).
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
CONTEXT_TEXT_MAX = 3000
# Not a documented per-message limit, but Slack refuses messages whose text is very large
# (bolt-js #2509: msg_blocks_too_long near 13k characters), so parts are also split by text size.
MAX_MESSAGE_TEXT = 12_000

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class Message:
    """One chat.postMessage: ``text`` is the notification/accessibility fallback (never empty)."""

    text: str
    blocks: Blocks


def paginate(
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


def pack(lines: Sequence[str], limit: int) -> list[str]:
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


def _text_size(block: dict[str, Any]) -> int:
    text = block.get("text")
    size = len(text.get("text", "")) if isinstance(text, dict) else 0
    for element in block.get("elements", []):
        if isinstance(element, dict) and element.get("type") in ("mrkdwn", "plain_text"):
            size += len(element.get("text", ""))
    return size


def block_dict(block: Block) -> dict[str, Any]:
    """Validate with slack_sdk (raises SlackObjectFormationError on a broken limit)."""
    return block.to_dict()


def section_block(text: str, *, block_id: str | None = None) -> dict[str, Any]:
    return block_dict(SectionBlock(block_id=block_id, text=MarkdownTextObject(text=fit_mrkdwn(text, SECTION_TEXT_MAX))))


def context_block(text: str, *, block_id: str | None = None) -> dict[str, Any]:
    return block_dict(
        ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=fit_mrkdwn(text, CONTEXT_TEXT_MAX))])
    )


def header_block(text: str) -> dict[str, Any]:
    plain = " ".join(text.split())
    if len(plain) > HEADER_TEXT_MAX:
        plain = plain[: HEADER_TEXT_MAX - 1].rstrip() + ELLIPSIS
    return block_dict(HeaderBlock(text=PlainTextObject(text=plain, emoji=True)))
