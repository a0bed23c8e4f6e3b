"""The rollout timeline (orchestrator/planning/timeline.py) of launches whose history is known:
built and rescheduled at frozen times, read at a frozen today; waves, baselines, slips with every
reschedule, freezes, windows, collisions and the axis, exactly; on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

from freezegun import freeze_time
from sqlalchemy import update

from orchestrator.core.clock import utcnow
from orchestrator.core.enums import LaunchStatus, Phase, WaveMode
from orchestrator.core.models import Launch
from orchestrator.launches.queries import rollout_id_for
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.planning.reads import DateChange, Freeze
from orchestrator.planning.timeline import Reschedule, launch_timeline, portfolio_timeline
from tests.support.planning import planned_launch, set_calendar

T0 = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)
T1 = datetime(2027, 1, 20, 15, 0, tzinfo=UTC)
T2 = datetime(2027, 2, 10, 12, 0, tzinfo=UTC)
NOW = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
INTERNAL = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
GA = datetime(2027, 5, 11, 9, 0, tzinfo=UTC)


def at(month, day):
    return datetime(2027, month, day, 9, 0, tzinfo=UTC)


def test_a_launch_timeline_has_waves_baselines_slips_with_their_history_freezes_and_collisions(seeded, actor):
    set_calendar(
        seeded,
        "EU",
        freezes=[{"start": "2027-05-24", "end": "2027-05-31", "reason": "Quarter close"}],
        window={"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"},
    )
    with freeze_time(T0):
        planned_launch(
            seeded,
            actor,
            "acme",
            {Phase.INTERNAL: INTERNAL, Phase.GA: GA},
            regions=("NA", "EU", "APAC"),
            wave_mode=WaveMode.SEQUENTIAL,
        )
    eu = rollout_id_for(session=seeded, slug="acme", region="EU")
    with freeze_time(T1):
        reschedule_phase(
            session=seeded, rollout_id=eu, phase=Phase.GA, new_at=at(5, 18), actor=actor, reason="Legal review"
        )
    with freeze_time(T2):
        reschedule_phase(session=seeded, rollout_id=eu, phase=Phase.GA, new_at=at(5, 26), actor=actor, reason="DPA")

    with freeze_time(NOW):
        timeline = launch_timeline(session=seeded, slug="acme", now=utcnow())

    lane = timeline.lane
    assert [(region.region, region.wave) for region in lane.regions] == [("APAC", 1), ("EU", 2), ("NA", 3)]
    eu_lane = lane.regions[1]
    assert eu_lane.skipped == (Phase.PRIVATE_BETA, Phase.PUBLIC_BETA)
    assert eu_lane.window == "Mon-Fri 09:00-17:00 local"
    assert eu_lane.freezes == (Freeze(date(2027, 5, 24), date(2027, 5, 31), "Quarter close"),)
    assert eu_lane.holiday_countries == ("DE", "FR", "GB")
    internal, ga = eu_lane.marks
    assert (internal.phase, internal.baseline_at, internal.current_at, internal.slip_days) == (
        Phase.INTERNAL,
        INTERNAL,
        INTERNAL,
        0,
    )
    assert (ga.phase, ga.baseline_at, ga.current_at, ga.slip_days) == (Phase.GA, GA, at(5, 26), 15)
    assert ga.changes == (
        Reschedule(DateChange(GA, at(5, 18), actor.name, "Legal review", T1), date(2027, 5, 11), date(2027, 5, 18)),
        Reschedule(DateChange(at(5, 18), at(5, 26), actor.name, "DPA", T2), date(2027, 5, 18), date(2027, 5, 26)),
    )
    assert (ga.baseline_day, ga.current_day) == (date(2027, 5, 11), date(2027, 5, 26))
    assert ga.conflicts == ("acme EU GA on 2027-05-26 falls in EU's freeze 'Quarter close' (2027-05-24 to 2027-05-31)",)
    assert [mark.slip_days for region in lane.regions for mark in region.marks] == [0, 0, 0, 15, 0, 0]
    assert lane.worst_slip == 15
    assert [collision.kind.value for collision in timeline.collisions] == ["freeze"]
    # From a week before the first date to a week after the last one; today as frozen.
    assert (timeline.axis.start, timeline.axis.end, timeline.axis.today) == (
        date(2027, 1, 25),
        date(2027, 6, 2),
        date(2027, 3, 1),
    )


def test_the_portfolio_timeline_has_every_active_launch_on_one_axis_and_marks_collisions_with_drafts(seeded, actor):
    with freeze_time(T0):
        for slug, tier, ga in (
            ("acme", 1, at(4, 15)),
            ("bolt", 2, at(4, 19)),
            ("cask", 3, at(6, 1)),
            ("dart", 1, at(9, 1)),
        ):
            planned_launch(seeded, actor, slug, {Phase.GA: ga}, tier=tier)
        # acme and cask run, bolt is a draft (it still collides), dart is done.
        seeded.execute(update(Launch).where(Launch.slug.in_(["acme", "cask"])).values(status=LaunchStatus.ACTIVE))
        seeded.execute(update(Launch).where(Launch.slug == "dart").values(status=LaunchStatus.COMPLETED))
        seeded.commit()

    with freeze_time(NOW):
        first = portfolio_timeline(session=seeded, now=utcnow(), per_page=1)
        second = portfolio_timeline(session=seeded, now=utcnow(), page=2, per_page=1)

    assert (first.total, first.pages, [lane.slug for lane in first.lanes]) == (2, 2, ["acme"])
    assert [lane.slug for lane in second.lanes] == ["cask"]
    assert (first.axis.start, first.axis.end, first.axis.today) == (
        date(2027, 2, 22),
        date(2027, 6, 8),
        date(2027, 3, 1),
    )
    assert first.axis == second.axis
    (acme_ga,) = first.lanes[0].regions[0].marks
    assert acme_ga.conflicts == (
        "acme (tier 1) and bolt (tier 2) both enter EU GA 4 days apart (2027-04-15 and 2027-04-19)",
    )
    assert [(phase, start.current_at, end.current_at, slip) for phase, start, end, slip in first.lanes[0].spans()] == [
        (Phase.GA, at(4, 15), at(4, 15), 0)
    ]
