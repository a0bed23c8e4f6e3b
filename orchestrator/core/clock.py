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
# The one meaning of a plain date, in every door (API, web console, CLI, Slack) and in the docs.
PLAIN_DATE_MEANING = (
    "a plain date (YYYY-MM-DD) means the start of that day (00:00) in the region's local time, "
    "its IANA timezone in the directory"
)


def plain_day(value: str) -> date | None:
    """The day a plain date (YYYY-MM-DD) names; None when ``value`` is not a plain date (a
    timestamp is read by the caller, with its offset); a plain date no calendar holds is
    InvalidInput."""
    if not PLAIN_DATE.fullmatch(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("date", f"{value!r} is not a date: no calendar has that day (YYYY-MM-DD)") from None


def day_start(day: date, *, timezone: str) -> datetime:
    """00:00 on ``day`` in ``timezone``, as UTC: what a plain date means for a region. Where a
    timezone skips midnight (a DST change at 00:00), this is the day's first instant."""
    try:
        return datetime.combine(day, time(0, 0), tzinfo=zone(timezone)).astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it
        raise InvalidInput("date", f"{day.isoformat()} is out of range; give a year between 2000 and 2999") from None


def plain_date_start(value: str, *, timezone: str) -> datetime | None:
    """A plain date (YYYY-MM-DD) as the moment every door gives it: the start of that day in the
    region's timezone, as UTC. None when ``value`` is not a plain date."""
    day = plain_day(value)
    return None if day is None else day_start(day, timezone=timezone)


def day_or_moment(value: str, *, field: str) -> date | datetime:
    """A date or timestamp as typed at a terminal or in a form, before its region is known: a
    plain date stays a ``date`` (its region's service gives it a time, ``region_moment``); an ISO
    8601 timestamp keeps its offset, and one without an offset is read as UTC."""
    try:
        day = plain_day(value)
    except InvalidInput as exc:
        raise InvalidInput(field, exc.problem) from None
    if day is not None:
        return day
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 timestamp") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def region_moment(value: date | datetime, *, timezone: str, field: str) -> datetime:
    """The moment a date for a region means: a ``date`` is the start of that day in the region's
    timezone (``day_start``); a timestamp is kept, as UTC. A timestamp without an offset is
    refused: a database would guess its zone."""
    if not isinstance(value, datetime):
        try:
            return day_start(value, timezone=timezone)
        except InvalidInput as exc:
            raise InvalidInput(field, exc.problem) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "needs a timezone offset (e.g. 2027-03-01T09:00:00+00:00) or a plain date")
    return as_utc(value)


def parse_moment(value: str, *, field: str, timezone: str) -> datetime:
    """A date or timestamp as typed, for a region whose timezone is known: ``day_or_moment``,
    then ``region_moment``."""
    return region_moment(day_or_moment(value, field=field), timezone=timezone, field=field)


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
