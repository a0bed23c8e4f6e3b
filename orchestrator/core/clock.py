"""The one place that reads the wall clock, and the time rules that need no clock.

Everything goes through ``utcnow`` so freezegun (and callers passing ``now=``) control time, and so
naive datetimes never reach the database. Regions' timezones apply only at the edges: a due date is
09:00 local in the region, computed here and stored as UTC.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.core.errors import InvalidInput

DUE_LOCAL_TIME = time(9, 0)


def utcnow() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime read back from a database that drops tzinfo (SQLite) to aware UTC.

    Naive values are taken to be UTC because that is the only thing launchdeck ever writes.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


PLAIN_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
PLAIN_DATE_MEANING = "a plain date (YYYY-MM-DD) means 00:00 UTC that day"


def plain_date_start(value: str) -> datetime | None:
    """A plain date (YYYY-MM-DD) as the moment every door gives it: the start of that day in UTC
    (00:00Z), whatever region it is for. None when ``value`` is not a plain date (a timestamp is
    read by the caller, with its offset); a plain date no calendar holds is InvalidInput."""
    if not PLAIN_DATE.fullmatch(value.strip()):
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("date", f"{value!r} is not a calendar date (YYYY-MM-DD)") from None
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def parse_moment(value: str, *, field: str) -> datetime:
    """A date or timestamp as typed at a terminal: a plain date is ``plain_date_start``; an ISO 8601
    timestamp keeps its offset, and one without an offset is read as UTC."""
    try:
        start = plain_date_start(value)
    except InvalidInput:
        start = None
    if start is not None:
        return start
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 timestamp") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def zone(name: str, *, field: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory, overlong names
        raise InvalidInput(field, f"{name!r} is not an IANA timezone (e.g. Europe/Berlin)") from None


def due_at(*, phase_at: datetime, offset_days: int, timezone: str) -> datetime:
    """09:00 local on the day ``offset_days`` from the phase date's local day, as UTC.

    Counting calendar days in the region's zone (not 24-hour steps in UTC) keeps the due time at
    09:00 local across a DST change.
    """
    tz = zone(timezone)
    local_day = as_utc(phase_at).astimezone(tz).date() + timedelta(days=offset_days)
    return datetime.combine(local_day, DUE_LOCAL_TIME, tzinfo=tz).astimezone(UTC)
