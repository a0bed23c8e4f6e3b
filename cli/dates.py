"""Date options: YYYY-MM-DD (midnight UTC) or a full ISO 8601 timestamp."""

from datetime import UTC, datetime

from orchestrator.core.errors import InvalidInput


def parse_date(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(option, f"{value!r} is not a date; use YYYY-MM-DD or an ISO 8601 timestamp") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
