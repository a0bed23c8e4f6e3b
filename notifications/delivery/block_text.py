"""Reading Block Kit back: Slack mrkdwn as typed spans, and a message as the plain lines a person
would read in Slack.

Without Slack the console transport is where GTM messages show up (the worker's log, and the
dashboard's messages page), so both must show what Slack would show, not the JSON. The spans are
the one parser both share: the log prints them as text, the dashboard escapes them into HTML. A
span's text is already unescaped (``&lt;`` is ``<``): whoever prints it escapes for its medium.
"""

import re
from dataclasses import dataclass
from typing import Any, Literal

SpanKind = Literal["text", "link", "mention"]

# Slack's formatting marks (bold, italic, strike, code): a mark opens after a non-word character
# and closes before one, around text that neither starts nor ends with a space (Slack's rule).
_STYLED = re.compile(r"(?<![\w*_~`])([*_~`])(?=\S)([^\n]+?)(?<=\S)\1(?![\w*_~`])")
_STYLE_NAMES = {"*": "bold", "_": "italic", "~": "strike", "`": "code"}
# Angle brackets are Slack's control sequences (links, mentions); literal ones arrive as &lt;/&gt;.
_CONTROL = re.compile(r"<([^<>\n]*)>")
_LINK_SCHEMES = ("https://", "http://", "mailto:")
_SPECIAL = {"channel": "@channel", "here": "@here", "everyone": "@everyone"}
# The shortcodes launchdeck's messages use, so the log and the page show the icon, not its name.
EMOJI = {
    "alarm_clock": "⏰",
    "arrows_counterclockwise": "🔄",
    "boom": "💥",
    "fast_forward": "⏩",
    "grey_question": "❔",
    "heavy_minus_sign": "\u2796",
    "hourglass_flowing_sand": "⏳",
    "large_green_circle": "🟢",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "no_entry": "⛔",
    "octagonal_sign": "🛑",
    "paperclip": "📎",
    "red_circle": "🔴",
    "rotating_light": "🚨",
    "tada": "🎉",
    "test_tube": "🧪",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "white_circle": "⚪",
    "white_large_square": "⬜",
}
_SHORTCODE = re.compile(r":([a-z0-9_+-]+):")
_MAX_LINE = 300


@dataclass(frozen=True, slots=True)
class Span:
    """A run of mrkdwn with one meaning: text, a link (``url`` set only for safe schemes), or a
    mention (``@someone``, ``#channel``, ``@channel``: shown, never acted on)."""

    text: str
    kind: SpanKind = "text"
    styles: frozenset[str] = frozenset()
    url: str | None = None


def mrkdwn_spans(raw: str) -> list[Span]:
    """Slack mrkdwn as spans: formatting marks become styles, ``<…>`` becomes links and mentions."""
    spans: list[Span] = []
    position = 0
    for match in _STYLED.finditer(raw):
        spans.extend(_controls(raw[position : match.start()], frozenset()))
        spans.extend(_controls(match.group(2), frozenset({_STYLE_NAMES[match.group(1)]})))
        position = match.end()
    spans.extend(_controls(raw[position:], frozenset()))
    return [span for span in spans if span.text]


def _controls(raw: str, styles: frozenset[str]) -> list[Span]:
    spans: list[Span] = []
    position = 0
    for match in _CONTROL.finditer(raw):
        spans.append(Span(text=_unescape(raw[position : match.start()]), styles=styles))
        spans.append(_control(match.group(1), styles))
        position = match.end()
    spans.append(Span(text=_unescape(raw[position:]), styles=styles))
    return spans


def _control(body: str, styles: frozenset[str]) -> Span:
    target, _, label = body.partition("|")
    label = _unescape(label)
    if target[:1] in {"@", "#"}:
        return Span(text=f"{target[0]}{label or target[1:]}", kind="mention", styles=styles)
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        shown = label if label and name in {"subteam", "date"} else _SPECIAL.get(name, f"@{name}")
        return Span(text=shown, kind="mention", styles=styles)
    url = _unescape(target)
    if url.lower().startswith(_LINK_SCHEMES):
        return Span(text=label or url, kind="link", styles=styles, url=url)
    return Span(text=label or url, styles=styles)  # not a link Slack would open: plain text


def _unescape(value: str) -> str:
    """Undo Slack's three escapes (``&amp;`` last, so ``&amp;lt;`` stays the text ``&lt;``)."""
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def emojize(text: str) -> str:
    """Known shortcodes as their emoji; unknown ones stay as typed (``:part:`` is not an emoji)."""
    return _SHORTCODE.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), text)


def plain_mrkdwn(raw: str) -> str:
    """Mrkdwn as a person reads it: no marks, links as ``label (url)``, mentions as names."""
    parts = []
    for span in mrkdwn_spans(raw):
        if span.kind == "link" and span.url is not None and span.text != span.url:
            parts.append(f"{emojize(span.text)} ({span.url})")
        else:
            parts.append(emojize(span.text))
    return "".join(parts)


def text_object(value: Any) -> str:
    """A Block Kit text object (plain_text or mrkdwn) as plain text."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    text = str(value.get("text", ""))
    return plain_mrkdwn(text) if value.get("type") == "mrkdwn" else emojize(text)


def element_label(element: dict[str, Any]) -> str:
    """An interactive element as its visible label: a button as ``[ Done ]``, an overflow menu as
    ``[ ⋯ Block · Waive ]``."""
    kind = element.get("type")
    if kind == "overflow":
        options = " · ".join(text_object(option.get("text")) for option in element.get("options") or [])
        return f"[ ⋯ {options} ]"
    label = text_object(element.get("text") or element.get("placeholder")) or str(kind or "?")
    url = element.get("url")
    return f"[ {label} ]" + (f" ({url})" if isinstance(url, str) else "")


def block_lines(block: dict[str, Any]) -> list[str]:
    """One block as the lines Slack would show (a divider as a rule, buttons in brackets)."""
    kind = block.get("type")
    if kind == "header":
        return [text_object(block.get("text"))]
    if kind == "section":
        lines = text_object(block.get("text")).splitlines()
        fields = [text_object(field) for field in block.get("fields") or []]
        if fields:
            lines.append("  |  ".join(" ".join(field.split()) for field in fields))
        accessory = block.get("accessory")
        if isinstance(accessory, dict) and accessory.get("type") in {"button", "overflow"}:
            lines.append(element_label(accessory))
        return lines
    if kind == "context":
        return [" · ".join(_context_part(element) for element in block.get("elements") or [])]
    if kind == "actions":
        return [" ".join(element_label(element) for element in block.get("elements") or [])]
    if kind == "divider":
        return ["─" * 40]
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    return [f"[{kind} block]"]


def _context_part(element: dict[str, Any]) -> str:
    if element.get("type") == "image":
        return f"[image: {element.get('alt_text', '')}]"
    return " ".join(text_object(element).split())


def plain_message(text: str, blocks: list[dict[str, Any]]) -> list[str]:
    """A whole message as plain lines: its blocks as Slack shows them, or the fallback text when
    it has none (the fallback is what notifications show; the channel shows the blocks)."""
    if not blocks:
        return [_clip(line) for line in plain_mrkdwn(text).splitlines() or [""]]
    return [_clip(line) for block in blocks for line in block_lines(block)]


def _clip(line: str) -> str:
    line = line.rstrip()
    return line if len(line) <= _MAX_LINE else line[: _MAX_LINE - 1] + "…"
