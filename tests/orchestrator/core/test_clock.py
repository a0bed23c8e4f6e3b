"""Due dates are 09:00 local on the due day, in the region's zone, whatever DST does in between."""

from datetime import UTC, datetime

import pytest

from orchestrator.core.clock import due_at
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
