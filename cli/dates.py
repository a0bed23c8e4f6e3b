"""Date options: YYYY-MM-DD (00:00 UTC that day, as in the API) or a full ISO 8601 timestamp
(without an offset: UTC). The meaning lives in ``orchestrator.core.clock.parse_moment``."""

from datetime import datetime

from orchestrator.core.clock import parse_moment


def parse_date(option: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    return parse_moment(value, field=option)
