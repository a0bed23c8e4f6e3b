"""Block Kit blocks as HTML, for the dashboard's page of console messages.

The page shows what GTM teams would see in Slack, so it renders blocks, not JSON: headers, mrkdwn
sections (bold, italic, strike, code, links, mentions), context lines, dividers, and the buttons
as disabled buttons in their style (nothing can be clicked: there is no Slack behind them).
Every piece of text is user-controlled (launch names, item titles, feedback), so every piece is
escaped here, once, from the parsed spans of ``notifications.delivery.block_text``; links are
kept only for http(s) and mailto URLs. The result is ``Markup`` for Jinja2's autoescaping.
"""

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from notifications.delivery.block_text import Span, emojize, mrkdwn_spans

_TAGS = (("code", "code"), ("bold", "strong"), ("italic", "em"), ("strike", "s"))
_BUTTON_STYLES = {"primary": "bk-primary", "danger": "bk-danger"}


def blocks_html(blocks: Iterable[Any], *, fallback: str = "") -> Markup:
    """A message's blocks as HTML; a message without blocks shows its fallback text."""
    parts = [_block(block) for block in blocks if isinstance(block, dict)]
    if not parts:
        return Markup('<div class="bk-section">{}</div>').format(mrkdwn_html(fallback))
    return Markup("\n").join(parts)


def mrkdwn_html(raw: str) -> Markup:
    """Slack mrkdwn as escaped HTML, newlines as line breaks."""
    return Markup("").join(_span(span) for span in mrkdwn_spans(raw))


def _span(span: Span) -> Markup:
    html = Markup("<br>").join(escape(emojize(line)) for line in span.text.split("\n"))
    if span.kind == "link" and span.url is not None:
        html = Markup('<a href="{}" rel="noopener noreferrer nofollow">{}</a>').format(span.url, html)
    elif span.kind == "mention":
        html = Markup('<span class="bk-mention">{}</span>').format(html)
    for style, tag in _TAGS:
        if style in span.styles:
            html = Markup("<{0}>{1}</{0}>").format(Markup(tag), html)
    return html


def _text(value: Any) -> Markup:
    if not isinstance(value, dict):
        return Markup("")
    text = str(value.get("text", ""))
    if value.get("type") == "mrkdwn":
        return mrkdwn_html(text)
    return Markup("<br>").join(escape(emojize(line)) for line in text.split("\n"))


def _block(block: dict[str, Any]) -> Markup:
    kind = block.get("type")
    if kind == "header":
        return Markup('<p class="bk-header">{}</p>').format(_text(block.get("text")))
    if kind == "section":
        return _section(block)
    if kind == "context":
        elements = [_context_part(element) for element in block.get("elements") or [] if isinstance(element, dict)]
        return Markup('<div class="bk-context">{}</div>').format(Markup(" · ").join(elements))
    if kind == "actions":
        return Markup('<div class="bk-actions">{}</div>').format(_elements(block.get("elements") or []))
    if kind == "divider":
        return Markup('<hr class="bk-divider">')
    if kind == "image":
        return Markup('<p class="bk-context">[image: {}]</p>').format(block.get("alt_text", ""))
    return Markup('<p class="bk-context">[{} block]</p>').format(str(kind))


def _section(block: dict[str, Any]) -> Markup:
    parts = [Markup('<div class="bk-text">{}</div>').format(_text(block.get("text")))]
    fields = [field for field in block.get("fields") or [] if isinstance(field, dict)]
    if fields:
        cells = Markup("").join(Markup("<div>{}</div>").format(_text(field)) for field in fields)
        parts.append(Markup('<div class="bk-fields">{}</div>').format(cells))
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        parts.append(_elements([accessory]))
    return Markup('<div class="bk-section">{}</div>').format(Markup("").join(parts))


def _context_part(element: dict[str, Any]) -> Markup:
    if element.get("type") == "image":
        return Markup("[image: {}]").format(element.get("alt_text", ""))
    return _text(element)


def _elements(elements: Iterable[Any]) -> Markup:
    return Markup(" ").join(_element(element) for element in elements if isinstance(element, dict))


def _element(element: dict[str, Any]) -> Markup:
    """An interactive element, shown but disabled: a button in its style, an overflow menu as its
    ⋯ button followed by its choices (a menu that cannot open would hide them), anything else as
    its label."""
    kind = element.get("type")
    if kind == "overflow":
        choices = Markup(" · ").join(
            _text(option.get("text")) for option in element.get("options") or [] if isinstance(option, dict)
        )
        return Markup(
            '<button type="button" disabled class="bk-button bk-default bk-overflow" aria-label="More actions">'
            '⋯</button> <span class="bk-choices">{}</span>'
        ).format(choices)
    label = _text(element.get("text") or element.get("placeholder")) or escape(str(kind))
    style = _BUTTON_STYLES.get(str(element.get("style")), "bk-default")
    url = element.get("url")
    title = Markup(' title="opens {}"').format(url) if isinstance(url, str) else Markup("")
    return Markup('<button type="button" disabled class="bk-button {}"{}>{}</button>').format(style, title, label)
