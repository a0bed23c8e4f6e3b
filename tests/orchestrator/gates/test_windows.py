"""Pure rules for rollout windows and freezes (orchestrator/gates/windows.py): no database, no clock.

Every instant below is a real UTC datetime; the comments give the region's local time so the
expected answer can be checked by hand (EU summer time ends on Sunday 2026-10-25, US daylight time
on Sunday 2026-11-01)."""

from datetime import UTC, datetime

import pytest

from orchestrator.core.errors import InvalidInput
from orchestrator.gates.windows import is_open, next_opening, validate_freezes, validate_window

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"
OFFICE_HOURS = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ---- windows: is_open --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Friday 2026-10-23, still summer time (CEST, UTC+2)
        pytest.param(utc(2026, 10, 23, 6, 59), False, id="fri-08:59-cest"),
        pytest.param(utc(2026, 10, 23, 7, 0), True, id="fri-09:00-cest"),
        pytest.param(utc(2026, 10, 23, 14, 59), True, id="fri-16:59-cest"),
        pytest.param(utc(2026, 10, 23, 15, 0), False, id="fri-17:00-cest"),
        # Saturday and Sunday in the middle of the day
        pytest.param(utc(2026, 10, 24, 10, 0), False, id="sat-noon"),
        pytest.param(utc(2026, 10, 25, 11, 0), False, id="sun-noon"),
        # Monday 2026-10-26, winter time (CET, UTC+1): the same UTC times now mean an hour earlier
        pytest.param(utc(2026, 10, 26, 7, 30), False, id="mon-08:30-cet"),
        pytest.param(utc(2026, 10, 26, 8, 0), True, id="mon-09:00-cet"),
        pytest.param(utc(2026, 10, 26, 8, 30), True, id="mon-09:30-cet"),
        pytest.param(utc(2026, 10, 26, 15, 59), True, id="mon-16:59-cet"),
        pytest.param(utc(2026, 10, 26, 16, 0), False, id="mon-17:00-cet"),
    ],
)
def test_is_open_in_berlin_office_hours_across_the_october_dst_change(now, expected):
    assert is_open(now, timezone=BERLIN, window=OFFICE_HOURS, freezes=[]) is expected


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Friday 2026-10-30, daylight time (EDT, UTC-4)
        pytest.param(utc(2026, 10, 30, 12, 59), False, id="fri-08:59-edt"),
        pytest.param(utc(2026, 10, 30, 13, 30), True, id="fri-09:30-edt"),
        pytest.param(utc(2026, 10, 30, 20, 59), True, id="fri-16:59-edt"),
        pytest.param(utc(2026, 10, 30, 21, 0), False, id="fri-17:00-edt"),
        # Monday 2026-11-02, standard time (EST, UTC-5)
        pytest.param(utc(2026, 11, 2, 13, 30), False, id="mon-08:30-est"),
        pytest.param(utc(2026, 11, 2, 14, 0), True, id="mon-09:00-est"),
        pytest.param(utc(2026, 11, 2, 21, 30), True, id="mon-16:30-est"),
        pytest.param(utc(2026, 11, 2, 22, 0), False, id="mon-17:00-est"),
        # Saturday 2026-10-31 03:00 UTC is still Friday 23:00 local: closed for the hour
        pytest.param(utc(2026, 10, 31, 3, 0), False, id="sat-utc-is-fri-night-local"),
    ],
)
def test_is_open_in_new_york_office_hours_across_the_november_dst_change(now, expected):
    assert is_open(now, timezone=NEW_YORK, window=OFFICE_HOURS, freezes=[]) is expected


def test_is_open_uses_the_local_weekday_not_the_utc_one():
    # Sunday 2026-10-25 23:30 UTC is already Monday 08:30 in Tokyo; 00:30 UTC is Monday 09:30.
    assert is_open(utc(2026, 10, 25, 23, 30), timezone=TOKYO, window=OFFICE_HOURS, freezes=[]) is False
    assert is_open(utc(2026, 10, 26, 0, 30), timezone=TOKYO, window=OFFICE_HOURS, freezes=[]) is True
    # Saturday 2026-10-31 01:00 UTC is Saturday 10:00 in Tokyo: office hours, but not a weekday.
    assert is_open(utc(2026, 10, 31, 1, 0), timezone=TOKYO, window=OFFICE_HOURS, freezes=[]) is False


def test_no_window_means_any_time():
    for hour in (0, 3, 12, 23):
        assert is_open(utc(2026, 10, 25, hour, 0), timezone=BERLIN, window=None, freezes=[]) is True


FREEZE_XMAS_TOKYO = [{"start": "2026-12-25", "end": "2026-12-25", "reason": "holiday"}]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(utc(2026, 12, 24, 14, 59), True, id="dec-24-23:59-jst"),
        # Still 24 December in UTC, but already the frozen 25th in Tokyo
        pytest.param(utc(2026, 12, 24, 15, 0), False, id="dec-25-00:00-jst"),
        pytest.param(utc(2026, 12, 25, 3, 0), False, id="dec-25-12:00-jst"),
        pytest.param(utc(2026, 12, 25, 14, 59), False, id="dec-25-23:59-jst"),
        # Still 25 December in UTC, but the 26th in Tokyo: the freeze is over
        pytest.param(utc(2026, 12, 25, 15, 0), True, id="dec-26-00:00-jst"),
    ],
)
def test_a_freeze_closes_the_whole_local_day(now, expected):
    assert is_open(now, timezone=TOKYO, window=None, freezes=FREEZE_XMAS_TOKYO) is expected


def test_a_freeze_closes_office_hours_too():
    # Friday 2026-12-25 10:00 JST: inside the window, but frozen.
    assert is_open(utc(2026, 12, 25, 1, 0), timezone=TOKYO, window=OFFICE_HOURS, freezes=FREEZE_XMAS_TOKYO) is False
    assert is_open(utc(2026, 12, 24, 1, 0), timezone=TOKYO, window=OFFICE_HOURS, freezes=FREEZE_XMAS_TOKYO) is True


def test_a_multi_day_freeze_includes_both_ends():
    freezes = [{"start": "2026-12-24", "end": "2026-12-28"}]
    # 24th 10:00 CET, 28th 16:00 CET (Thursday and Monday, both in office hours)
    assert is_open(utc(2026, 12, 24, 9, 0), timezone=BERLIN, window=OFFICE_HOURS, freezes=freezes) is False
    assert is_open(utc(2026, 12, 28, 15, 0), timezone=BERLIN, window=OFFICE_HOURS, freezes=freezes) is False
    assert is_open(utc(2026, 12, 23, 9, 0), timezone=BERLIN, window=OFFICE_HOURS, freezes=freezes) is True
    assert is_open(utc(2026, 12, 29, 9, 0), timezone=BERLIN, window=OFFICE_HOURS, freezes=freezes) is True


# ---- windows: next_opening ---------------------------------------------------------------------


def test_next_opening_is_now_when_already_open():
    now = utc(2026, 10, 26, 8, 30)  # Monday 09:30 CET

    assert next_opening(now, timezone=BERLIN, window=OFFICE_HOURS, freezes=[]) == now


def test_next_opening_before_hours_is_the_same_days_window_start():
    now = utc(2026, 10, 26, 7, 30)  # Monday 08:30 CET

    assert next_opening(now, timezone=BERLIN, window=OFFICE_HOURS, freezes=[]) == utc(2026, 10, 26, 8, 0)


def test_next_opening_after_hours_is_the_next_days_window_start():
    now = utc(2026, 10, 26, 16, 0)  # Monday 17:00 CET

    assert next_opening(now, timezone=BERLIN, window=OFFICE_HOURS, freezes=[]) == utc(2026, 10, 27, 8, 0)


def test_next_opening_after_a_weekend_is_monday_at_the_local_window_start_across_dst():
    # Friday 17:30 CEST (UTC+2); the weekend's DST change puts Monday 09:00 at 08:00 UTC, not 07:00.
    friday_evening = utc(2026, 10, 23, 15, 30)
    assert next_opening(friday_evening, timezone=BERLIN, window=OFFICE_HOURS, freezes=[]) == utc(2026, 10, 26, 8, 0)

    # Saturday noon in New York, before its own DST change: Monday 09:00 EST is 14:00 UTC.
    saturday = utc(2026, 10, 31, 16, 0)
    assert next_opening(saturday, timezone=NEW_YORK, window=OFFICE_HOURS, freezes=[]) == utc(2026, 11, 2, 14, 0)


def test_next_opening_after_a_freeze_is_the_first_unfrozen_window_start():
    freezes = [{"start": "2026-12-24", "end": "2026-12-28"}]  # Thursday .. Monday
    now = utc(2026, 12, 24, 9, 0)  # Thursday 10:00 CET, frozen

    # Friday is frozen, the weekend is outside the window, Monday is frozen: Tuesday 09:00 CET.
    assert next_opening(now, timezone=BERLIN, window=OFFICE_HOURS, freezes=freezes) == utc(2026, 12, 29, 8, 0)


def test_next_opening_after_a_freeze_without_a_window_is_local_midnight():
    now = utc(2026, 12, 24, 20, 0)  # 25 December 05:00 in Tokyo, frozen

    assert next_opening(now, timezone=TOKYO, window=None, freezes=FREEZE_XMAS_TOKYO) == utc(2026, 12, 25, 15, 0)


def test_next_opening_after_a_freeze_that_ends_on_a_friday_skips_the_weekend():
    now = utc(2026, 12, 25, 1, 0)  # Friday 25th 10:00 JST, frozen

    # Monday 28th 09:00 JST
    assert next_opening(now, timezone=TOKYO, window=OFFICE_HOURS, freezes=FREEZE_XMAS_TOKYO) == utc(2026, 12, 28, 0, 0)


def test_next_opening_is_none_when_frozen_for_longer_than_the_search_horizon():
    freezes = [{"start": "2026-01-01", "end": "2028-12-31"}]

    assert next_opening(utc(2026, 10, 26, 8, 0), timezone=BERLIN, window=OFFICE_HOURS, freezes=freezes) is None


# ---- windows: validation -----------------------------------------------------------------------


def test_validate_window_accepts_good_windows_and_none():
    validate_window(None)
    validate_window(OFFICE_HOURS)
    validate_window({"days": [5, 6]})
    validate_window({"start": "22:00"})  # until the default end, 23:59


@pytest.mark.parametrize(
    ("window", "field"),
    [
        pytest.param({"days": []}, "rollout_window.days", id="no-days"),
        pytest.param({"days": [7]}, "rollout_window.days", id="day-7"),
        pytest.param({"days": [-1]}, "rollout_window.days", id="day-negative"),
        pytest.param({"days": ["mon"]}, "rollout_window.days", id="day-name"),
        pytest.param({"days": 1}, "rollout_window.days", id="days-not-a-list"),
        pytest.param({"start": "nine"}, "rollout_window.start", id="start-not-a-time"),
        pytest.param({"end": "25:00"}, "rollout_window.end", id="end-not-a-time"),
        pytest.param({"start": "17:00", "end": "09:00"}, "rollout_window.end", id="crosses-midnight"),
        pytest.param({"start": "09:00", "end": "09:00"}, "rollout_window.end", id="empty"),
    ],
)
def test_validate_window_refuses_bad_input_naming_the_field(window, field):
    with pytest.raises(InvalidInput) as caught:
        validate_window(window)

    assert caught.value.field == field


def test_validate_freezes_accepts_good_freezes():
    validate_freezes([])
    validate_freezes([{"start": "2026-12-24", "end": "2026-12-24"}, {"start": "2027-01-01", "end": "2027-01-02"}])


@pytest.mark.parametrize(
    ("freezes", "field"),
    [
        pytest.param([{"end": "2026-12-24"}], "freezes[0].start", id="start-missing"),
        pytest.param([{"start": "24.12.2026", "end": "2026-12-24"}], "freezes[0].start", id="start-not-iso"),
        pytest.param([{"start": "2026-12-24"}], "freezes[0].end", id="end-missing"),
        pytest.param([{"start": "2026-12-24", "end": "2026-02-30"}], "freezes[0].end", id="end-not-a-day"),
        pytest.param(
            [{"start": "2026-12-24", "end": "2026-12-24"}, {"start": "2027-01-02", "end": "2027-01-01"}],
            "freezes[1].end",
            id="second-ends-before-start",
        ),
    ],
)
def test_validate_freezes_refuses_bad_input_naming_the_field(freezes, field):
    with pytest.raises(InvalidInput) as caught:
        validate_freezes(freezes)

    assert caught.value.field == field
