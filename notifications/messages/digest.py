"""The daily leadership digest: every active launch, red first, with its RAG, the reason and one
line per region, split into several messages when long."""

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, DividerBlock, PlainTextObject

from notifications.ids import ActionId
from notifications.messages.layout import (
    SECTION_TEXT_MAX,
    Blocks,
    Message,
    block_dict,
    context_block,
    header_block,
    pack,
    paginate,
    section_block,
)
from notifications.messages.snapshots import DigestMessage
from notifications.messages.templating import render
from notifications.mrkdwn import escape_mrkdwn, shorten
from orchestrator.reporting.digest import Digest, LaunchDigest
from orchestrator.reporting.forecast_misses import ForecastMiss
from orchestrator.reporting.rag import Rag

_RAG_ICONS = {Rag.RED: ":red_circle:", Rag.AMBER: ":large_orange_circle:", Rag.GREEN: ":large_green_circle:"}


def leadership_digest(msg: DigestMessage) -> list[Message]:
    """Every active launch, red first, with its RAG, the reason and one line per region.
    Split into several messages when long; a launch's blocks stay together when they fit."""
    digest = msg.digest
    groups = [_launch_blocks(launch) for launch in digest.launches]
    misses = _misses_block(digest.forecast_misses)
    if digest.collisions:
        groups.insert(0, _collision_blocks(digest))
    chunks = paginate(groups, reserved_blocks=3 + (misses is not None)) if groups else [[]]
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
            header_block(render("digest_header", **context)),
            context_block(render("digest_context", **context), block_id=f"digest:part:{index}"),
        ]
        if misses is not None and index == 1:
            blocks.append(misses)
        body = [block for group in chunk for block in group]
        if not digest.launches:
            body = [*body, section_block("_No active launches._")]
        blocks.extend(body)
        if msg.dashboard_url and index == len(chunks):
            blocks.append(_dashboard_link(msg.dashboard_url))
        messages.append(Message(text=render("digest_text", **context), blocks=blocks))
    return messages


def _dashboard_link(url: str) -> dict[str, Any]:
    button = ButtonElement(
        text=PlainTextObject(text="Open the dashboard", emoji=True), action_id=ActionId.OPEN_DASHBOARD.value, url=url
    )
    return block_dict(ActionsBlock(block_id="digest:links", elements=[button]))


def _misses_block(misses: Sequence[ForecastMiss]) -> dict[str, Any] | None:
    """The week's readiness forecasts that missed their phase dates, worst first (at most ten)."""
    if not misses:
        return None
    lines = [
        f"• `{escape_mrkdwn(shorten(miss.slug, 80))}` {escape_mrkdwn(miss.reason)} "
        f"(forecast of {miss.made_at:%Y-%m-%d})"
        for miss in misses
    ]
    return section_block("*Forecast misses of the week*\n" + "\n".join(lines), block_id="digest:forecast-misses")


def _launch_blocks(launch: LaunchDigest) -> Blocks:
    blocks = [
        block_dict(DividerBlock()),
        section_block(
            render("digest_launch", launch=launch, icon=_RAG_ICONS[launch.rag]), block_id=f"launch:{launch.id}"
        ),
    ]
    lines = [render("digest_region", region=region) for region in launch.regions]
    for number, text in enumerate(pack(lines, SECTION_TEXT_MAX), start=1):
        blocks.append(section_block(text, block_id=f"launch:{launch.id}:regions:{number}"))
    return blocks


def _collision_blocks(digest: Digest) -> Blocks:
    """The coming week's top collisions (two launches entering one place within days, a phase
    date in a freeze or on a public holiday), before the launches."""
    text = render("digest_collisions", collisions=digest.collisions, total=digest.collisions_in_week)
    return [section_block(text, block_id="digest:collisions")]
