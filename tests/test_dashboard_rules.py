"""The dashboard's pure parts and its history: configurable RAG rules, the daily RAG snapshot and
the trend against last week, the burndown rebuilt from status changes, and RFC 5545 details."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import func, select

from api.ical import PhaseEvent, calendar, escape_text, fold
from orchestrator.core.actors import Actor
from orchestrator.core.enums import Phase, RolloutState, Source
from orchestrator.core.models import AuditEvent, RagSnapshot
from orchestrator.core.settings import reset_settings
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.burndown import StatusChange, burndown
from orchestrator.reporting.digest import build_leadership_digest
from orchestrator.reporting.rag import Rag, RagRules, RegionDigest, rag_for
from orchestrator.reporting.rag_history import rag_trends, record_rag_snapshots
from tests.support.factories import item, make_launch, phase_dates

ACTOR = Actor(name="flow@test", source=Source.FLOW)
NOW = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)


def region(**overrides: object) -> RegionDigest:
    values: dict[str, object] = {
        "region": "EU",
        "region_name": "Europe",
        "state": RolloutState.GATED,
        "phase": Phase.INTERNAL,
        "percent": 0,
        "open_blocking": 1,
        "overdue_blocking": 0,
        "blocked": 0,
        "blocked_blocking": 0,
        "next_blocking_due_at": NOW + timedelta(days=5),
        "slip_days": 0,
        "slip_phase": None,
        "next_gate_phase": Phase.INTERNAL,
        "next_gate_at": NOW + timedelta(days=10),
    }
    values.update(overrides)
    return RegionDigest(**values)  # type: ignore[arg-type]


@pytest.fixture
def rag_env(monkeypatch):
    monkeypatch.setenv("LAUNCHDECK_RAG_DUE_SOON_DAYS", "7")
    monkeypatch.setenv("LAUNCHDECK_RAG_SLIP_AMBER_DAYS", "2")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_rag_rules_come_from_settings(rag_env):
    rules = RagRules.from_settings()
    assert rules == RagRules(due_soon=timedelta(days=7), slip_amber_days=2)
    assert rag_for([region()], now=NOW).rag == Rag.GREEN  # built-in: due in 5 days is not "soon"
    assert rag_for([region()], now=NOW, rules=rules).rag == Rag.AMBER
    slipped = region(slip_days=3, slip_phase=Phase.GA, next_blocking_due_at=None)
    assert rag_for([slipped], now=NOW, rules=rules).reason == "EU: ga slipped 3 days"


def test_the_digest_uses_the_configured_rules(rag_env, seeded):
    launch = make_launch(seeded, ACTOR, dates=phase_dates(NOW + timedelta(days=10)), items=[item("legal", offset=-5)])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=ACTOR)
    # The item is due 5 days from NOW: amber under the configured 7-day window, green under 3.
    assert build_leadership_digest(session=seeded, now=NOW).launches[0].rag == Rag.AMBER
    assert build_leadership_digest(session=seeded, now=NOW, rules=RagRules()).launches[0].rag == Rag.GREEN


def test_rag_settings_are_validated(monkeypatch):
    from orchestrator.core.errors import ConfigError
    from orchestrator.core.settings import get_settings

    monkeypatch.setenv("LAUNCHDECK_RAG_DUE_SOON_DAYS", "0")
    reset_settings()
    try:
        with pytest.raises(ConfigError, match="LAUNCHDECK_RAG_DUE_SOON_DAYS"):
            get_settings()
    finally:
        monkeypatch.undo()
        reset_settings()


def test_snapshots_are_once_per_launch_and_day_and_give_the_trend(seeded):
    launch = make_launch(seeded, ACTOR, dates=phase_dates(NOW + timedelta(days=30)), items=[item("legal", offset=-5)])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=ACTOR)
    week_ago = NOW - timedelta(days=7)
    with freeze_time(week_ago):
        digest = build_leadership_digest(session=seeded, now=week_ago)
        assert digest.launches[0].rag == Rag.GREEN
        assert record_rag_snapshots(session=seeded, digest=digest, actor=ACTOR) == 1
        assert record_rag_snapshots(session=seeded, digest=digest, actor=ACTOR) == 0  # a retried run adds nothing
    assert seeded.exec(select(func.count()).select_from(RagSnapshot)).one() == 1
    assert (
        seeded.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "rag.snapshotted")).one()
        == 1
    )

    trends = rag_trends(session=seeded, current={launch.id: Rag.RED}, today=NOW.date())
    assert trends[launch.id].previous == Rag.GREEN
    assert trends[launch.id].previous_day == week_ago.date()
    assert trends[launch.id].direction == "worsened"
    assert rag_trends(session=seeded, current={launch.id: Rag.GREEN}, today=NOW.date())[launch.id].direction == (
        "unchanged"
    )
    # Six days after the snapshot there is no week-old history yet.
    too_soon = rag_trends(session=seeded, current={launch.id: Rag.RED}, today=(week_ago + timedelta(days=6)).date())
    assert too_soon[launch.id].direction == "no history yet"


def test_burndown_walks_back_from_today_and_projects_to_the_gate():
    start = NOW - timedelta(days=20)
    changes = [
        StatusChange(NOW - timedelta(days=10), closed=True),
        StatusChange(NOW - timedelta(days=6), closed=True),
        StatusChange(NOW - timedelta(days=5), closed=False),  # reopened
        StatusChange(NOW - timedelta(days=2), closed=True),
    ]
    chart = burndown(
        region="EU",
        phase=Phase.GA,
        open_now=4,
        changes=changes,
        start=start,
        now=NOW,
        gate_at=NOW + timedelta(days=7),
    )
    assert [point.open for point in chart.points] == [6, 5, 4, 5, 4, 4]
    assert chart.rate_per_day == pytest.approx((6 - 4) / 14)
    assert chart.projected_at_gate == round(4 - 7 * 2 / 14)
    assert chart.projected_zero_at == NOW + timedelta(days=4 / (2 / 14))
    assert "4 open blocking items now" in chart.summary


def test_burndown_without_progress_projects_nothing_to_zero():
    chart = burndown(
        region="EU", phase=Phase.GA, open_now=3, changes=[], start=NOW - timedelta(days=3), now=NOW, gate_at=None
    )
    assert chart.rate_per_day == 0
    assert chart.projected_zero_at is None
    assert "no projection" in chart.summary


def test_ical_escapes_text_and_folds_long_lines_at_75_octets():
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"
    long = "SUMMARY:" + "é" * 60  # two octets each: folding must not split a character
    folded = fold(long)
    lines = folded.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert "".join(line.removeprefix(" ") if index else line for index, line in enumerate(lines)) == long


def test_ical_calendar_has_crlf_lines_and_stable_uids():
    event = PhaseEvent(
        slug="acme",
        launch_name="Acme, the big one; really",
        region="EU",
        phase="ga",
        at=datetime(2027, 4, 1, 9, tzinfo=UTC),
        baseline_at=datetime(2027, 3, 25, 9, tzinfo=UTC),
        status="not started",
    )
    text = calendar(name="Acme phases", events=[event], now=NOW)
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "UID:acme.EU.ga@launchdeck\r\n" in text
    assert "DTSTART:20270401T090000Z" in text
    assert "Acme\\, the big one\\; really" in text
    assert "moved +7 days" in text.replace("\r\n ", "")


def test_the_daily_digest_task_keeps_todays_rag_once(seeded, engine, monkeypatch):
    """The scheduled digest flow's task writes the RAG history the dashboard's trend reads; a
    second run the same day (retry, double schedule) adds nothing. Called as a plain function:
    what it does to the database needs no Prefect server."""
    from flows import runtime
    from flows.scheduled import queue_todays_digest

    launch = make_launch(seeded, ACTOR, dates=phase_dates(NOW + timedelta(days=30)), items=[item("legal", offset=-5)])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=ACTOR)
    monkeypatch.setenv("LAUNCHDECK_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    reset_settings()
    runtime.reset()
    try:
        _digest, queued = queue_todays_digest.fn()
        assert queued
        _digest, queued_again = queue_todays_digest.fn()
        assert not queued_again
    finally:
        monkeypatch.undo()
        reset_settings()
        runtime.reset()
    snapshots = seeded.exec(select(RagSnapshot)).all()
    assert [(snapshot.launch_id, snapshot.rag) for snapshot in snapshots] == [(launch.id, Rag.GREEN.value)]
