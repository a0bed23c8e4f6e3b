"""The scheduled flows' own work (flows/scheduled.py), without a Prefect server: the leadership digest
rendered as Markdown for the run's artifact (pure), and the daily digest task keeping today's RAG once."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from flows.scheduled import digest_markdown
from orchestrator.core.enums import Phase, RolloutState
from orchestrator.core.models import RagSnapshot
from orchestrator.core.settings import reset_settings
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.digest import Digest, LaunchDigest
from orchestrator.reporting.rag import Rag
from tests.support.factories import item, make_launch, phase_dates
from tests.support.reporting import ACTOR, NOW, region


def sample_digest():
    eu = region(
        "EU",
        open_blocking=4,
        overdue_blocking=1,
        blocked=2,
        blocked_blocking=1,
        slip_days=3,
        slip_phase=Phase.INTERNAL,
        next_gate_at=datetime(2027, 3, 1, 8, 0, tzinfo=UTC),
    )
    na = region("NA", state=RolloutState.ROLLING_OUT, phase=Phase.GA, percent=25, next_gate_phase=None)
    return Digest(
        generated_at=NOW,
        launches=(
            LaunchDigest(
                id=1,
                slug="acme-assistant",
                name="Acme | Assistant",
                tier=1,
                owner="owner@example.com",
                exec_sponsor=None,
                rag=Rag.RED,
                reason="EU: 1 blocking item overdue,\n1 blocking item blocked",
                regions=(eu, na),
            ),
            LaunchDigest(
                id=2,
                slug="quiet-launch",
                name="Quiet",
                tier=3,
                owner="sam@example.com",
                exec_sponsor="vp@example.com",
                rag=Rag.GREEN,
                reason="on track",
                regions=(replace(eu, region="APAC", overdue_blocking=0, blocked_blocking=0),),
            ),
        ),
    )


def test_digest_markdown_renders_launches_and_regions_as_tables():
    lines = digest_markdown(sample_digest()).splitlines()

    assert lines[0] == "## Leadership digest, 2027-02-10"
    assert lines[2] == "2 active launch(es): 1 red, 0 amber, 1 green. Generated 2027-02-10 09:00 UTC."
    assert lines[4:8] == [
        "| RAG | launch | tier | owner | why |",
        "| --- | --- | --- | --- | --- |",
        "| **RED** | acme-assistant (Acme / Assistant) | 1 | owner@example.com "
        "| EU: 1 blocking item overdue, 1 blocking item blocked |",
        "| **GREEN** | quiet-launch (Quiet) | 3 | sam@example.com | on track |",
    ]
    assert lines[9:] == [
        "### Regions",
        "",
        "| launch | region | state | phase | exposure | open blocking | overdue blocking | blocked "
        "| slipped (days) | next gate | skipped phases |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        "| acme-assistant | EU | gated | internal | 0% | 4 | 1 | 2 | 3 | internal 2027-03-01 | - |",
        "| acme-assistant | NA | rolling_out | ga | 25% | 3 | 0 | 0 | 0 | - | - |",
        "| quiet-launch | APAC | gated | internal | 0% | 4 | 0 | 2 | 3 | internal 2027-03-01 | - |",
    ]
    # user text with pipes or line breaks cannot add cells or rows
    assert [line.count("|") for line in lines[4:8]] == [6, 6, 6, 6]
    assert [line.count("|") for line in lines[11:]] == [12] * 5


def test_digest_markdown_without_launches_says_so():
    assert (
        digest_markdown(Digest(generated_at=NOW, launches=()))
        == "## Leadership digest, 2027-02-10\n\nNo active launches."
    )


def test_the_daily_digest_task_keeps_todays_rag_once(seeded, engine, monkeypatch):
    """The scheduled digest flow's task writes the RAG history the dashboard's trend reads; a
    second run the same day (retry, double schedule) adds nothing. Called as a plain function:
    what it does to the database needs no Prefect server."""
    from flows import resources as runtime
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


def test_the_hourly_reminders_flow_also_reminds_approvers_the_day_before_once(flow_db, seeded, prefect_server):
    """The `overdue-reminders` flow on a real Prefect server runs the approval reminders as its
    second task: a GA gate due in 12 hours whose two approvers have not voted gets one reminder
    each and one missing-votes note, and the next hourly run queues nothing new."""
    from flows.scheduled import overdue_reminders
    from orchestrator.core.models import Outbox
    from orchestrator.core.topics import Topic
    from tests.support.factories import make_approvers

    make_approvers(seeded, ACTOR, "ana@example.com", "ben@example.com")
    phase_at = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=12)
    launch = make_launch(seeded, ACTOR, dates={Phase.GA: phase_at}, approvers=["ana@example.com", "ben@example.com"])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=ACTOR)

    first = overdue_reminders()
    second = overdue_reminders()

    assert first == {"reminded": 0, "escalated": 0, "skipped": 0, "approvers_reminded": 2, "votes_missing_told": 1}
    assert second == {"reminded": 0, "escalated": 0, "skipped": 0, "approvers_reminded": 0, "votes_missing_told": 0}
    queued = sorted(
        (row.topic, row.payload.get("approver"))
        for row in seeded.exec(select(Outbox))
        if row.topic in {Topic.APPROVAL_REMINDER, Topic.APPROVAL_VOTES_MISSING}
    )
    assert queued == [
        (Topic.APPROVAL_REMINDER, "ana@example.com"),
        (Topic.APPROVAL_REMINDER, "ben@example.com"),
        (Topic.APPROVAL_VOTES_MISSING, None),
    ]
