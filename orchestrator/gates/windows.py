"""Rollout windows and freezes: when a region may take a change, in its own local time.

A window is weekdays plus a local start and end time; a freeze is a range of local dates (both
ends included). Both are data on the Region, so a company edits them without code.
"""

from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from orchestrator.core.clock import as_utc, zone
from orchestrator.core.errors import InvalidInput

SEARCH_DAYS = 400


def _parse_time(value: Any, field: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a time of day (HH:MM)") from None


def _parse_date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date (YYYY-MM-DD)") from None


def validate_window(window: Mapping[str, Any] | None) -> None:
    if window is None:
        return
    days = window.get("days", list(range(7)))
    if not isinstance(days, list) or not days or any(not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        raise InvalidInput("rollout_window.days", "list weekdays as numbers, Monday = 0 ... Sunday = 6")
    start = _parse_time(window.get("start", "00:00"), "rollout_window.start")
    end = _parse_time(window.get("end", "23:59"), "rollout_window.end")
    if end <= start:
        raise InvalidInput("rollout_window.end", "must be after start (windows do not cross midnight)")


def validate_freezes(freezes: Sequence[Mapping[str, Any]]) -> None:
    for index, freeze in enumerate(freezes):
        start = _parse_date(freeze.get("start"), f"freezes[{index}].start")
        end = _parse_date(freeze.get("end"), f"freezes[{index}].end")
        if end < start:
            raise InvalidInput(f"freezes[{index}].end", "must not be before start")


def _frozen(local_day: date, freezes: Sequence[Mapping[str, Any]]) -> bool:
    return any(
        _parse_date(f["start"], "freezes.start") <= local_day <= _parse_date(f["end"], "freezes.end") for f in freezes
    )


def is_open(
    now: datetime, *, timezone: str, window: Mapping[str, Any] | None, freezes: Sequence[Mapping[str, Any]]
) -> bool:
    local = as_utc(now).astimezone(zone(timezone))
    if _frozen(local.date(), freezes):
        return False
    if window is None:
        return True
    start = _parse_time(window.get("start", "00:00"), "rollout_window.start")
    end = _parse_time(window.get("end", "23:59"), "rollout_window.end")
    return local.weekday() in window.get("days", range(7)) and start <= local.time().replace(tzinfo=None) < end


def next_opening(
    now: datetime, *, timezone: str, window: Mapping[str, Any] | None, freezes: Sequence[Mapping[str, Any]]
) -> datetime | None:
    """The first moment at or after ``now`` when the region may take a change (None if never
    within a year, which a misconfigured freeze could cause)."""
    if is_open(now, timezone=timezone, window=window, freezes=freezes):
        return as_utc(now)
    tz = zone(timezone)
    local_now = as_utc(now).astimezone(tz)
    start = _parse_time((window or {}).get("start", "00:00"), "rollout_window.start")
    days = (window or {}).get("days", list(range(7)))
    for offset in range(SEARCH_DAYS):
        day = local_now.date() + timedelta(days=offset)
        if day.weekday() not in days or _frozen(day, freezes):
            continue
        candidate = datetime.combine(day, start, tzinfo=tz)
        if candidate >= local_now:
            return as_utc(candidate)
        if is_open(local_now, timezone=timezone, window=window, freezes=freezes):
            return as_utc(local_now)
    return None
