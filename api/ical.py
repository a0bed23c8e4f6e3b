"""An iCalendar (RFC 5545) feed of a launch's phase dates: one zero-length VEVENT per region and
phase at its current date, so a calendar shows when each region enters each phase.

UIDs are stable (launch slug, region, phase), so a subscribed calendar moves the event when the
date slips instead of adding a second one.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

PRODID = "-//launchdeck//dashboard phase feed//EN"
UID_DOMAIN = "launchdeck"


@dataclass(frozen=True)
class PhaseEvent:
    slug: str
    launch_name: str
    region: str
    phase: str
    at: datetime  # current date, aware
    baseline_at: datetime
    status: str
    url: str | None = None


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, newline."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1) without splitting a UTF-8 character;
    continuation lines start with one space."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > limit:
            parts.append(current.decode())
            current = b""
            limit = 74  # the leading space counts
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(*, name: str, events: Sequence[PhaseEvent], now: datetime) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines.extend(_event(event, now))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def _event(event: PhaseEvent, now: datetime) -> Iterable[str]:
    slip_days = round((event.at - event.baseline_at).total_seconds() / 86400)
    description = f"{event.launch_name}: {event.region} enters {event.phase} ({event.status})."
    if slip_days:
        description += f" Baseline {event.baseline_at:%Y-%m-%d}, moved {slip_days:+d} days."
    yield "BEGIN:VEVENT"
    yield f"UID:{escape_text(f'{event.slug}.{event.region}.{event.phase}')}@{UID_DOMAIN}"
    yield f"DTSTAMP:{_stamp(now)}"
    yield f"DTSTART:{_stamp(event.at)}"
    yield f"DTEND:{_stamp(event.at)}"
    yield f"SUMMARY:{escape_text(f'{event.launch_name} · {event.region} {event.phase}')}"
    yield f"DESCRIPTION:{escape_text(description)}"
    if event.url:
        yield f"URL:{event.url}"
    yield "TRANSP:TRANSPARENT"
    yield "END:VEVENT"
