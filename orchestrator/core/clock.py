"""The one place that reads the wall clock, and the time rules that need no clock.

Everything goes through ``utcnow`` so freezegun (and callers passing ``now=``) control time, and so
naive datetimes never reach the database. Regions' timezones apply only at the edges: a due date is
09:00 local in the region, computed here and stored as UTC.
"""

from datetime import UTC, datetime, time, timedelta
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
