"""Due dates are 09:00 local on the due day, in the region's zone, whatever DST does in between;
a plain date is the start of that day in the region's zone."""

from datetime import UTC, date, datetime

import pytest

from orchestrator.core.clock import day_or_moment, due_at, parse_moment, plain_date_start, region_moment
from orchestrator.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("timezone", "phase_at", "offset", "expected_utc"),
    [
        # Europe/Berlin leaves summer time on 2026-10-25: a week before is CEST (UTC+2), the day is CET (UTC+1).
        ("Europe/Berlin", datetime(2026, 10, 28, 12, 0, tzinfo=UTC), -7, datetime(2026, 10, 21, 7, 0, tzinfo=UTC)),
        ("Europe/Berlin", datetime(2026, 10, 28, 12, 0, tzinfo=UTC), 0, datetime(2026, 10, 28, 8, 0, tzinfo=UTC)),
        # America/New_York starts summer time on 2027-03-14: EST (UTC-5) before, EDT (UTC-4) after.
        ("America/New_York", datetime(2027, 3, 17, 15, 0, tzinfo=UTC), -7, datetime(2027, 3, 10, 14, 0, tzinfo=UTC)),
        ("America/New_York", datetime(2027, 3, 17, 15, 0, tzinfo=UTC), 0, datetime(2027, 3, 17, 13, 0, tzinfo=UTC)),
        # The local day counts, not the UTC day: 02:00 UTC on 1 March is still 28 February in New York.
        ("America/New_York", datetime(2027, 3, 1, 2, 0, tzinfo=UTC), 1, datetime(2027, 3, 1, 14, 0, tzinfo=UTC)),
        ("Asia/Tokyo", datetime(2027, 3, 1, 20, 0, tzinfo=UTC), -1, datetime(2027, 3, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_due_at_is_nine_local_on_the_offset_day(timezone, phase_at, offset, expected_utc):
    assert due_at(phase_at=phase_at, offset_days=offset, timezone=timezone) == expected_utc


def test_unknown_timezone_is_an_input_error():
    with pytest.raises(InvalidInput, match="not an IANA timezone"):
        due_at(phase_at=datetime(2027, 3, 1, tzinfo=UTC), offset_days=0, timezone="Mars/Olympus")


def test_a_plain_date_is_the_start_of_that_day_in_the_regions_timezone():
    assert plain_date_start("2031-04-01", timezone="Asia/Tokyo") == datetime(2031, 3, 31, 15, tzinfo=UTC)
    assert plain_date_start("2031-04-01", timezone="America/Los_Angeles") == datetime(2031, 4, 1, 7, tzinfo=UTC)
    assert plain_date_start("2031-04-01T09:00:00+02:00", timezone="Asia/Tokyo") is None
    # Santiago skips 00:00 on 7 September 2031 (summer time starts at midnight): the day starts at 01:00.
    assert plain_date_start("2031-09-07", timezone="America/Santiago") == datetime(2031, 9, 7, 4, tzinfo=UTC)
    # A timestamp keeps its offset; without one (a terminal's shorthand) it is UTC.
    offset = parse_moment("2031-04-01T09:00:00+02:00", field="--date", timezone="Asia/Tokyo")
    assert offset == datetime(2031, 4, 1, 7, tzinfo=UTC)
    assert parse_moment("2031-04-01T09:00:00", field="--date", timezone="Asia/Tokyo") == datetime(
        2031, 4, 1, 9, tzinfo=UTC
    )
    assert day_or_moment("2031-04-01", field="--ga") == date(2031, 4, 1)
    with pytest.raises(InvalidInput, match="'2031-02-30' is not a date"):
        day_or_moment("2031-02-30", field="--ga")
    with pytest.raises(InvalidInput, match="needs a timezone offset"):
        region_moment(datetime(2031, 4, 1, 9), timezone="Asia/Tokyo", field="expires_at")
