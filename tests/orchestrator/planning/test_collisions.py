"""Collisions (orchestrator/planning/collisions.py), pure: phase dates in, collisions out, with
the exact day, launches and sentence of each; public holidays from the real `holidays` package."""

from datetime import UTC, date, datetime

from orchestrator.core.enums import Phase
from orchestrator.planning.collisions import CollisionKind, Entry, find_collisions, local_day
from orchestrator.planning.holidays import Holiday
from orchestrator.planning.reads import Freeze, RegionCalendar

TODAY = date(2027, 3, 1)
EU = RegionCalendar(
    code="EU",
    name="Europe",
    timezone="Europe/Berlin",
    rollout_order=20,
    freezes=(Freeze(date(2027, 12, 20), date(2028, 1, 3), "Year-end"),),
    holiday_countries=("DE", "FR", "GB"),
)
NA = RegionCalendar(
    code="NA", name="North America", timezone="America/New_York", rollout_order=40, holiday_countries=("US", "CA")
)
QC = RegionCalendar(
    code="NA:CA-QC", name="Quebec", timezone="America/Toronto", rollout_order=41, holiday_countries=("CA-QC",)
)
CALENDARS = {calendar.code: calendar for calendar in (EU, NA, QC)}


def entry(slug, day, *, tier=1, region="EU", phase=Phase.GA, hour=9):
    at = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    return Entry(slug, slug.title(), tier, region, phase, at, local_day(at, CALENDARS[region]))


def found(*entries, window_days=7):
    return [
        (c.kind, c.day, c.slugs, c.sentence)
        for c in find_collisions(entries, CALENDARS, today=TODAY, window_days=window_days)
    ]


def test_two_tier_1_or_2_launches_entering_one_phase_in_one_region_within_the_window_collide():
    assert found(
        entry("alpha", date(2027, 4, 15), tier=1),
        entry("beta", date(2027, 4, 19), tier=2),
        entry("gamma", date(2027, 4, 16), tier=3),  # tier 3: never an overlap
        entry("delta", date(2027, 4, 27), tier=1),  # 8 days after beta
        entry("omega", date(2027, 4, 16), tier=1, region="NA"),  # another region
        entry("sigma", date(2027, 4, 16), tier=1, phase=Phase.PUBLIC_BETA),  # another phase
    ) == [
        (
            CollisionKind.OVERLAP,
            date(2027, 4, 15),
            ("alpha", "beta"),
            "alpha (tier 1) and beta (tier 2) both enter EU GA 4 days apart (2027-04-15 and 2027-04-19)",
        )
    ]


def test_launches_in_a_row_each_within_the_window_of_the_one_before_are_one_collision():
    assert found(
        entry("a", date(2027, 4, 1)),
        entry("b", date(2027, 4, 8)),
        entry("c", date(2027, 4, 12)),
        entry("d", date(2027, 4, 20)),
    ) == [
        (
            CollisionKind.OVERLAP,
            date(2027, 4, 1),
            ("a", "b", "c"),
            "3 tier 1-2 launches enter EU GA within 11 days (2027-04-01 to 2027-04-12): "
            "a (2027-04-01), b (2027-04-08), c (2027-04-12)",
        )
    ]
    assert found(entry("a", date(2027, 4, 1)), entry("b", date(2027, 4, 8)), window_days=6) == []


def test_only_what_is_still_ahead_of_today_counts():
    assert found(
        entry("old", date(2027, 2, 20)),
        entry("older", date(2027, 2, 22)),  # a run wholly before today: history
        entry("past", date(2027, 2, 26), phase=Phase.PUBLIC_BETA),
        entry("soon", date(2027, 3, 3), phase=Phase.PUBLIC_BETA),  # ... one still ahead: a collision, dated then
        entry("unity", date(2026, 10, 3)),  # a holiday already gone
    ) == [
        (
            CollisionKind.OVERLAP,
            date(2027, 3, 3),
            ("past", "soon"),
            "past (tier 1) and soon (tier 1) both enter EU public beta 5 days apart (2027-02-26 and 2027-03-03)",
        )
    ]


def test_a_phase_date_on_a_public_holiday_names_the_holiday_and_its_country():
    (collision,) = find_collisions([entry("alpha", date(2027, 10, 3), tier=3)], CALENDARS, today=TODAY, window_days=7)
    assert collision.kind == CollisionKind.HOLIDAY
    assert collision.holidays == (Holiday(date(2027, 10, 3), "DE", "German Unity Day"),)
    assert collision.sentence == "alpha EU GA on 2027-10-03 is a public holiday: German Unity Day (DE)"


def test_a_phase_date_counts_on_its_day_in_the_regions_timezone():
    # 00:00 UTC on 5 July is the evening of 4 July in New York; 23:00 UTC on 2 October is 3 October in Berlin.
    late_evening = entry("gamma", date(2027, 7, 5), region="NA", hour=0)
    past_midnight = entry("delta", date(2027, 10, 2), tier=3, hour=23)
    assert (late_evening.day, past_midnight.day) == (date(2027, 7, 4), date(2027, 10, 3))
    found = find_collisions([late_evening, past_midnight], CALENDARS, today=TODAY, window_days=7)
    assert [collision.sentence for collision in found] == [
        "gamma NA GA on 2027-07-04 is a public holiday: Independence Day (US)",
        "delta EU GA on 2027-10-03 is a public holiday: German Unity Day (DE)",
    ]


def test_a_sub_region_keeps_its_own_holidays():
    (collision,) = find_collisions(
        [entry("fete", date(2027, 6, 24), region="NA:CA-QC", hour=14)], CALENDARS, today=TODAY, window_days=7
    )
    assert collision.holidays == (Holiday(date(2027, 6, 24), "CA-QC", "Saint John the Baptist Day"),)
    assert (
        find_collisions([entry("fete", date(2027, 6, 24), region="NA", hour=14)], CALENDARS, today=TODAY, window_days=7)
        == []
    )


def test_a_phase_date_inside_a_freeze_of_its_region_is_a_collision():
    (collision,) = find_collisions([entry("alpha", date(2027, 12, 22), tier=3)], CALENDARS, today=TODAY, window_days=7)
    assert collision.kind == CollisionKind.FREEZE
    assert collision.freeze == EU.freezes[0]
    assert collision.sentence == "alpha EU GA on 2027-12-22 falls in EU's freeze 'Year-end' (2027-12-20 to 2028-01-03)"
    assert find_collisions([entry("alpha", date(2028, 1, 4), tier=3)], CALENDARS, today=TODAY, window_days=7) == []
