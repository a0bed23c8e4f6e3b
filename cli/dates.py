"""Date options: YYYY-MM-DD (the start of that day in the region's timezone, as in the API and
the console) or a full ISO 8601 timestamp (without an offset: UTC). A plain date stays a day here;
the service of the region it is for gives it its moment (``orchestrator.core.clock.region_moment``)."""

from datetime import date, datetime

from orchestrator.core.clock import day_or_moment


def parse_date(option: str, value: str | None) -> date | datetime | None:
    if value is None:
        return None
    return day_or_moment(value, field=option)
