"""Slack mrkdwn text helpers shared by what we post and what we answer: escaping, shortening,
links, mentions, times and phase labels.

Every user-provided value in a mrkdwn text goes through ``escape_mrkdwn``, which escapes exactly
the three characters Slack asks apps to escape (&, <, >); that also stops a title such as
``<!channel>`` from pinging a whole channel. The Jinja2 templates use these as filters
(``notifications.messages.templating``).
"""

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.core.enums import Phase
from orchestrator.gates.beta_exit import CriterionStatus

ELLIPSIS = "…"
_PHASE_LABELS = {
    Phase.INTERNAL: "Internal",
    Phase.PRIVATE_BETA: "Private beta",
    Phase.PUBLIC_BETA: "Public beta",
    Phase.GA: "GA",
}
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape_mrkdwn(value: object) -> str:
    """Slack's mrkdwn escaping: &, < and > become entities (docs: "Escaping text")."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def shorten(value: object, limit: int) -> str:
    """Cut a raw value to ``limit`` characters with an ellipsis. Apply before ``mrkdwn`` so the
    cut can never split an entity such as ``&amp;``."""
    text = " ".join(str(value).split())  # newlines in a title would break the line layout
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def fit_mrkdwn(text: str, limit: int) -> str:
    """Last-resort cut of rendered mrkdwn to ``limit`` characters that never leaves half an
    entity (``&am``) or half a link/mention (``<https://…``) behind."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    amp, semi = cut.rfind("&"), cut.rfind(";")
    if amp > semi:
        cut = cut[:amp]
    opened, closed = cut.rfind("<"), cut.rfind(">")
    if opened > closed:
        cut = cut[:opened]
    return cut.rstrip() + ELLIPSIS


def mention(value: object) -> str:
    """A Slack user id becomes a mention; anything else is shown as escaped text."""
    text = str(value)
    return f"<@{text}>" if _SLACK_USER_ID.match(text) else escape_mrkdwn(text)


def link(url: object, label: object) -> str:
    """A mrkdwn link whose URL cannot break out of ``<url|label>``."""
    target = escape_mrkdwn(str(url).replace("|", "%7C"))
    return f"<{target}|{escape_mrkdwn(shorten(label, 80))}>"


def when(value: datetime | None, timezone: str = "UTC") -> str:
    """A time as the region reads it, with the zone's abbreviation (``Tue 14 Oct 17:00 CEST``)."""
    if value is None:
        return "no date"
    return value.astimezone(_zone(timezone)).strftime("%a %d %b %Y %H:%M %Z")


def phase_label(value: Phase | str | None) -> str:
    if value is None:
        return "no phase"
    try:
        return _PHASE_LABELS[Phase(value)]
    except ValueError:
        return str(value)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=1)
def exit_criteria_mrkdwn(statuses: Iterable[CriterionStatus]) -> str:
    """Beta exit criteria for Slack, each marked met or not, with its value and threshold: the one
    way the digest and ``/launch status`` show why a region waits at its gate."""
    marks = {True: ":white_check_mark:", False: ":x:"}
    return ", ".join(f"{marks[status.met]} {escape_mrkdwn(status.label)}" for status in statuses)
