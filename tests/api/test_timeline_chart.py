"""The timeline SVG's geometry (api/timeline_chart.py), pure: where each date, slip, freeze and
today land on the shared axis, in pixels, for a launch whose dates are known."""

from datetime import UTC, date, datetime

from api.timeline_chart import LABEL, LANE, RIGHT, TOP, WIDTH, axis_chart, launch_chart, summary_chart
from orchestrator.core.enums import LaunchStatus, Phase, RolloutState, WaveMode
from orchestrator.planning.reads import Freeze, LaunchRow, PhaseRow, RegionCalendar, RolloutRow
from orchestrator.planning.timeline import Axis, lanes

AXIS = Axis(start=date(2027, 1, 25), end=date(2027, 6, 2), today=date(2027, 3, 1))  # 128 days
PLOT = WIDTH - LABEL - RIGHT  # 828 px


ACME = LaunchRow(1, "acme", "Acme", 1, LaunchStatus.ACTIVE, WaveMode.SEQUENTIAL)


def row(region, phase, baseline, current, rollout_id):
    rollout = RolloutRow(rollout_id, ACME, region, RolloutState.GATED, Phase.INTERNAL, ())
    return PhaseRow(rollout, phase, baseline, current)


def at(month, day, hour=9):
    return datetime(2027, month, day, hour, tzinfo=UTC)


CALENDARS = {
    "EU": RegionCalendar(
        "EU", "Europe", "Europe/Berlin", 20, freezes=(Freeze(date(2027, 5, 24), date(2027, 5, 31), "Quarter close"),)
    ),
    "APAC": RegionCalendar("APAC", "Asia Pacific", "Asia/Singapore", 10),
}
(LANE_OF_ACME,) = lanes(
    [
        row("EU", Phase.INTERNAL, at(2, 1), at(2, 1), 2),
        row("EU", Phase.GA, at(5, 11), at(5, 26), 2),
        row("APAC", Phase.GA, at(5, 11), at(5, 4), 1),
    ],
    CALENDARS,
)


def test_dates_slips_freezes_and_today_land_where_their_days_are_on_the_axis():
    chart = launch_chart(LANE_OF_ACME, AXIS)
    apac, eu = chart.lanes  # wave order: APAC (rollout order 10) before EU
    assert (apac.label, eu.label, apac.y, eu.y) == ("1. APAC", "2. EU", TOP + LANE / 2, TOP + LANE * 1.5)
    internal, ga = eu.markers
    assert (internal.x, internal.slip) == (round(LABEL + PLOT * 7.375 / 128, 1), "")  # 1 Feb 09:00: 7.375 days in
    assert (ga.x, ga.baseline_x, ga.slip) == (903.1, 806.1, "late")  # 26 May vs 11 May, 09:00
    assert ga.title == "EU GA: 2027-05-26 (baseline 2027-05-11, +15 days)"
    (early,) = apac.markers
    assert (early.x, early.baseline_x, early.slip) == (760.8, 806.1, "early")
    (freeze,) = eu.bands
    assert (freeze.x, freeze.width) == (887.8, 51.7)  # 24 May (119 days in) to the end of 31 May
    assert freeze.title == "EU freeze 'Quarter close' (2027-05-24 to 2027-05-31)"
    assert chart.today_x == round(LABEL + PLOT * 35 / 128, 1) == 344.4
    assert [tick.label for tick in chart.ticks] == ["Feb 2027", "Mar", "Apr", "May", "Jun"]


def test_the_portfolio_row_spans_each_phase_over_its_regions_and_shares_the_axis():
    chart = summary_chart(LANE_OF_ACME, AXIS)
    internal, ga = chart.lanes[0].spans
    assert (ga.x, ga.width, ga.slipped) == (760.8, 142.3, True)  # 4 May to 26 May; EU slipped
    assert (internal.x, internal.width, internal.slipped) == (round(LABEL + PLOT * 7.375 / 128, 1), 0.0, False)
    assert axis_chart(AXIS).today_x == chart.today_x
