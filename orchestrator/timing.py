"""Clock-free time rules: local business times in a region's timezone, stored as UTC."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestrator.clock import as_utc
from orchestrator.errors import InvalidInput

DUE_LOCAL_TIME = time(9, 0)


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
