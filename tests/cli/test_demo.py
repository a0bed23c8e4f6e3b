"""`launchdeck demo` judges whether the launch is moving from everything that happens to it (any
ledger event, delivery or lease), so it only asks "is a worker running?" when nothing does.

The demo's clock and sleeps are replaced by a fake clock that a sleep moves forward, and the
simulated people by a stand-in, so each test decides exactly what happens between two looks."""

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from cli import demo
from cli.main import app
from orchestrator.core.actors import Actor
from orchestrator.core.enums import Source
from orchestrator.core.ledger import record
from orchestrator.core.models import RegionRollout

runner = CliRunner()
STALL_WARNING = "nothing has moved for a while"


class FakeTime:
    """``time.monotonic`` and ``time.sleep`` for the demo: sleeping moves the clock, at once."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(demo, "time", clock)
    return clock


def run_demo(minutes):
    return runner.invoke(
        app,
        ["demo", "--slug", "demo-test", "--tick-seconds", "5", "--timeout-minutes", str(minutes)],
        catch_exceptions=False,
        env={"COLUMNS": "240"},
    )


def a_worker_between_steps(session, *, launch_id, per_tick):
    """What a worker holding a region at one exposure writes each tick: ledger events for the
    launch (here an exposure handed to the target), with no region changing state or percent."""
    rollout_id = session.exec(select(RegionRollout.id).where(RegionRollout.launch_id == launch_id)).first()
    worker = Actor(name="worker-1", source=Source.FLOW)
    record(
        session, actor=worker, entity="rollout", entity_id=rollout_id, action="rollout.exposure_delivered",
        launch_id=launch_id,
    )  # fmt: skip
    session.commit()
    return 0


def nobody(session, *, launch_id, per_tick):
    return 0


def test_a_launch_a_worker_keeps_working_on_is_not_reported_as_stalled(workdir, fake_time, monkeypatch):
    assert runner.invoke(app, ["init"]).exit_code == 0
    monkeypatch.setattr(demo, "_play_people", a_worker_between_steps)

    result = run_demo(minutes=3)

    assert result.exit_code == 0, result.output
    assert STALL_WARNING not in result.output
    assert "stopped waiting after 3 minutes" in result.output


def test_a_launch_nobody_touches_is_reported_as_stalled(workdir, fake_time, monkeypatch):
    assert runner.invoke(app, ["init"]).exit_code == 0
    monkeypatch.setattr(demo, "_play_people", nobody)

    result = run_demo(minutes=3)

    assert result.exit_code == 0, result.output
    assert STALL_WARNING in result.output
