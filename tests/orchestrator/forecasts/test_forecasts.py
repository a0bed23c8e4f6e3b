"""Readiness forecasts against a launch whose history is known to the minute (tests/support/history.py),
on SQLite and PostgreSQL with freezegun: the forecast date, what else the gate waits for, one
recorded row per forecast and day, the RAG's amber reason, and the week's misses in the digest."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlmodel import col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Phase, Role, Source
from orchestrator.core.errors import Forbidden
from orchestrator.core.models import AuditEvent, Forecast
from orchestrator.forecasts.service import RecordRun, record_forecasts
from orchestrator.forecasts.view import launch_forecast
from orchestrator.reporting.digest import build_leadership_digest
from orchestrator.reporting.rag import Rag
from tests.support.history import GA_AT, GA_MOVED_TO, SLUG, START, Story, at, play


def utc(value):
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def recorded(session):
    rows = session.exec(select(Forecast).order_by(col(Forecast.id))).all()
    session.commit()
    return [(utc(r.made_at), utc(r.confirmed_at), utc(r.projected_at), utc(r.phase_at), r.open_blocking) for r in rows]


def test_the_forecast_projects_the_next_gate_at_the_recent_rate_and_says_what_else_it_waits_for(seeded, actor):
    with freeze_time(START) as frozen:
        play(seeded, actor, frozen, until=at(3, 11, 9))
        forecast = launch_forecast(session=seeded, slug=SLUG, now=datetime.now(UTC))
    (eu,) = forecast.regions
    projection = eu.projection
    # GA's three blocking items were open at creation (Mar 2 09:00); one closed since: 1/9 a day,
    # so the two still open take 18 days: Mar 29 09:00, 7 days after GA on Mar 22.
    assert (projection.region, projection.phase, projection.open_blocking) == ("EU", Phase.GA, 2)
    assert projection.rate_per_day == pytest.approx(1 / 9)
    assert projection.projected_at == at(3, 29, 9)
    assert (projection.phase_at, projection.days_late) == (GA_AT, 7)
    assert projection.reason == "forecast: EU GA checklist done 7 days after 2026-03-22"
    assert (eu.approvals_missing, eu.gos_needed, eu.criteria_unmet, eu.waiting_for) == (("vp@example.com",), 1, (), ())
    assert eu.conditions == ("1 more Go needed; not voted: vp@example.com",)
    assert forecast.misses == ("forecast: EU GA checklist done 7 days after 2026-03-22",)
    assert [(row.made_at, row.projected_at) for row in forecast.history] == [(at(3, 11, 9), at(3, 29, 9))]


def test_a_forecast_is_recorded_once_per_day_and_again_when_the_day_or_its_outcome_changes(seeded, actor):
    with freeze_time(START) as frozen:
        play(seeded, actor, frozen, until=at(3, 12, 9))
        # Mar 11 10:00 made the same forecast as 09:00 (Mar 29): it confirmed the row. Mar 12 is a new day.
        assert recorded(seeded) == [
            (at(3, 11, 9), at(3, 11, 10), at(3, 29, 9), GA_AT, 2),
            (at(3, 12, 9), at(3, 12, 9), at(4, 1, 9), GA_AT, 2),
        ]
        again = record_forecasts(session=seeded, now=datetime.now(UTC), actor=actor)
        frozen.move_to(at(3, 12, 23, 59))
        later = record_forecasts(session=seeded, now=datetime.now(UTC), actor=actor)  # rate 1/10.6: Apr 2
    assert again == RecordRun(made=1, new=0)
    assert later == RecordRun(made=1, new=1)
    assert len(recorded(seeded)) == 3
    events = seeded.exec(select(AuditEvent.after).where(AuditEvent.action == "forecast.recorded")).all()
    assert [event["new"] for event in events] == [1, 1, 1]  # nothing new, nothing recorded


def test_the_rag_turns_amber_with_the_forecast_reason_against_the_current_phase_date(seeded, actor):
    with freeze_time(START) as frozen:
        story = Story(seeded, actor, frozen)
        story.until(at(3, 10, 9))
        assert build_leadership_digest(session=seeded, now=datetime.now(UTC)).launches[0].rag == Rag.GREEN
        story.until(at(3, 11, 9))
        digest = build_leadership_digest(session=seeded, now=datetime.now(UTC))
        (launch,) = digest.launches
        assert (launch.rag, launch.reason) == (Rag.AMBER, "forecast: EU GA checklist done 7 days after 2026-03-22")
        assert launch.regions[0].forecast_done_at == at(3, 29, 9)
        # GA moved to Mar 26 (4 days: no slip alarm); the latest forecast (Mar 12: Apr 1) still misses it.
        story.until(at(3, 13, 10))
        launch = build_leadership_digest(session=seeded, now=datetime.now(UTC)).launches[0]
    assert (launch.rag, launch.reason) == (Rag.AMBER, "forecast: EU GA checklist done 6 days after 2026-03-26")
    assert launch.regions[0].next_gate_at == GA_MOVED_TO


def test_the_digest_lists_the_weeks_forecast_misses(seeded, actor):
    with freeze_time(START) as frozen:
        story = Story(seeded, actor, frozen)
        story.until(at(3, 13, 10))
        digest = build_leadership_digest(session=seeded, now=datetime.now(UTC))
        (miss,) = digest.forecast_misses
        assert (miss.slug, miss.region, miss.phase, miss.made_at) == (SLUG, "EU", Phase.GA, at(3, 12, 9))
        assert (miss.projected_at, miss.phase_at, miss.days_late) == (at(4, 1, 9), GA_AT, 10)
        assert digest.to_payload()["forecast_misses"][0]["reason"] == (
            "forecast: EU GA checklist done 10 days after 2026-03-22"
        )
        # A week after the last miss was made (Mar 15's forecast was on time), none is left.
        story.until(at(3, 19, 9, 1))
        assert build_leadership_digest(session=seeded, now=datetime.now(UTC)).forecast_misses == ()


def test_only_launch_operators_may_record_forecasts_and_a_refusal_writes_nothing(seeded, actor):
    with freeze_time(START) as frozen:
        play(seeded, actor, frozen, until=at(3, 11, 8))
        leadership = Actor(name="lee@example.com", source=Source.API, role=Role.LEADERSHIP)
        with pytest.raises(Forbidden, match="may not record readiness forecasts"):
            record_forecasts(session=seeded, now=datetime.now(UTC), actor=leadership)
        assert recorded(seeded) == []
        prodops = Actor(name="pat@example.com", source=Source.API, role=Role.PRODOPS)
        assert record_forecasts(session=seeded, now=datetime.now(UTC), actor=prodops) == RecordRun(made=1, new=1)


def test_a_sequential_waves_forecast_names_the_regions_it_waits_for(seeded, actor):
    from orchestrator.core.enums import WaveMode
    from orchestrator.launches.service import create_launch, kick_off_launch
    from orchestrator.launches.spec import LaunchSpec
    from tests.support.factories import item, region_plan

    dates = {Phase.INTERNAL: at(3, 20, 9)}
    spec = LaunchSpec(
        slug="waves",
        name="Waves",
        tier=3,
        owner="owner@example.com",
        regions=[region_plan("EU", dates), region_plan("NA", dates)],
        wave_mode=WaveMode.SEQUENTIAL,
    )
    with freeze_time(START):
        launch = create_launch(session=seeded, spec=spec, items=[item("faq", region="NA")], actor=actor)
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        eu, na = launch_forecast(session=seeded, slug="waves", now=datetime.now(UTC)).regions
    assert (eu.projection.region, eu.waiting_for, eu.conditions) == ("EU", (), ())
    assert (na.projection.region, na.projection.open_blocking) == ("NA", 1)
    assert na.waiting_for == ("EU",)
    assert na.conditions == ("waits for EU to be live first",)


def test_the_launch_pages_forecast_from_its_burndowns_is_the_same_forecast(seeded, actor):
    """The page reuses the burndowns it drew (every status change of the launch); the forecast reads
    only the rate window's: the same projection either way."""
    from orchestrator.forecasts.view import page_forecast
    from orchestrator.reporting.launch_page import launch_page

    with freeze_time(START) as frozen:
        Story(seeded, actor, frozen).until(at(3, 15, 12))  # the GA burndown has three changes by now
        now = datetime.now(UTC)
        page = launch_page(session=seeded, slug=SLUG, now=now)
        from_page = page_forecast(session=seeded, launch=page.launch, charts=page.burndowns, now=now)
        direct = launch_forecast(session=seeded, slug=SLUG, now=now)
    assert from_page == direct
    assert from_page.regions[0].projection.projected_at == at(3, 22, 1, 30)
