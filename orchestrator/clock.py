"""The one place that reads the wall clock.

Everything goes through ``utcnow`` so freezegun (and callers passing ``now=``) control time, and so
naive datetimes never reach the database.
"""

from datetime import UTC, datetime


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
